"""The rules of the registered cdk-nag packs, read from the installed cdk-nag package itself.

cdk-nag 3.x reports only violations: its validation report (``cdk.out/validation-report.json``) says
nothing about the rules that passed, and a pack does not list its rules (``NagPack.ruleIds`` is unset).
The pinned package ships its JavaScript inside the jsii tarball, so the catalogue is read from there:
every ``applyRule`` call of a pack gives the rule ID, level and description, and the rule's own module
names the CloudFormation resource classes it examines (``node instanceof aws_s3_1.CfnBucket``), which
tells which resources of a stack each rule looked at. Every rule runs on every resource; a rule whose
classes do not occur in a stack has nothing to check there.
"""

import functools
import importlib.util
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

PACK_MODULES = {"AwsSolutions": "aws-solutions", "NIST.800.53.R5": "nist-800-53-r5"}
"""Pack name (the rule ID prefix) -> module of ``lib/packs`` in the cdk-nag package."""

_APPLY_RULE = re.compile(r"this\.applyRule\(\{(?P<body>.*?)\n\s*node: node,?\s*\}\);", re.DOTALL)
_STRING = r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`)"""
_SUFFIX = re.compile(r"ruleSuffixOverride:\s*" + _STRING)
_INFO = re.compile(r"info:\s*" + _STRING)
_LEVEL = re.compile(r"level:\s*nag_rules_1\.NagMessageLevel\.(\w+)")
_RULE = re.compile(r"rule:\s*(\w+)\.(\w+)")
_REQUIRE = re.compile(r"""const (\w+) = require\("([^"]+)"\);""")
_INSTANCE_OF = re.compile(r"instanceof (\w+)\.(Cfn\w+)")


@dataclass(frozen=True)
class NagRule:
    rule_id: str
    """e.g. ``AwsSolutions-S1`` or ``NIST.800.53.R5-S3BucketLoggingEnabled``."""
    level: str
    """``ERROR`` or ``WARN`` (both fail the synthesis unless acknowledged)."""
    info: str
    resource_classes: frozenset[str]
    """jsii FQNs of the L1 classes the rule examines, e.g. ``aws-cdk-lib.aws_s3.CfnBucket``."""


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _tarball() -> Path:
    """Found without importing cdk_nag, which would start a jsii runtime."""
    spec = importlib.util.find_spec("cdk_nag")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("cdk-nag is not installed")
    jsii_dir = Path(next(iter(spec.submodule_search_locations))) / "_jsii"
    tarballs = sorted(jsii_dir.glob("cdk-nag@*.jsii.tgz"))
    if len(tarballs) != 1:
        raise FileNotFoundError(f"expected one cdk-nag jsii tarball in {jsii_dir}, found {tarballs}")
    return tarballs[0]


@functools.cache
def pack_rules() -> dict[str, tuple[NagRule, ...]]:
    """Pack name -> its rules, in the order the pack applies them."""
    with tarfile.open(_tarball()) as archive:
        sources = {
            member.name.removeprefix("package/"): archive.extractfile(member).read().decode()  # type: ignore[union-attr]
            for member in archive.getmembers()
            if member.isfile() and member.name.startswith("package/lib/") and member.name.endswith(".js")
        }
    return {pack: _rules_of(pack, module, sources) for pack, module in PACK_MODULES.items()}


def _rules_of(pack: str, module: str, sources: dict[str, str]) -> tuple[NagRule, ...]:
    source = sources[f"lib/packs/{module}.js"]
    rule_modules = {name: path for name, path in _REQUIRE.findall(source)}
    rules = []
    for match in _APPLY_RULE.finditer(source):
        body = match["body"]
        rule_match, info, level = _RULE.search(body), _INFO.search(body), _LEVEL.search(body)
        if not (rule_match and info and level):
            raise ValueError(f"cannot read an applyRule call of {module}.js: {body[:200]}")
        module_var, function = rule_match.groups()
        suffix = _SUFFIX.search(body)
        rule_id = f"{pack}-{_unquote(suffix[1]) if suffix else function}"
        rule_path = rule_modules[module_var].removeprefix("../")
        rule_source = sources.get(f"lib/{rule_path}/{function}.js", "")
        rules.append(
            NagRule(
                rule_id=rule_id,
                level=level[1],
                info=_unquote(info[1]),
                resource_classes=_classes(rule_source),
            )
        )
    if not rules:
        raise ValueError(f"found no rules in cdk-nag's {module}.js")
    return tuple(rules)


def _classes(rule_source: str) -> frozenset[str]:
    """The L1 classes a rule module tests with ``instanceof``, as jsii FQNs."""
    modules = {
        name: path.replace("aws-cdk-lib/", "aws-cdk-lib.")
        .replace("-", "_")
        .replace("aws_cdk_lib", "aws-cdk-lib")
        for name, path in _REQUIRE.findall(rule_source)
        if path.startswith("aws-cdk-lib/")
    }
    return frozenset(
        f"{modules[module]}.{cls}" for module, cls in _INSTANCE_OF.findall(rule_source) if module in modules
    )
