"""Every CodeBuild project that runs the CDK CLI, cdk-assets or npm pins a supported Node.js."""

import datetime
import json
import re
from collections.abc import Callable, Iterator, Sequence

import yaml

from compliance.deploy_rules.model import DeployRule, Json, StackTemplate, Violation

NODE_END_OF_LIFE = {
    "18": datetime.date(2025, 4, 30),
    "20": datetime.date(2026, 4, 30),
    "22": datetime.date(2027, 4, 30),
    "24": datetime.date(2028, 4, 30),
}
"""Node.js long-term-support lines and their end of life (https://nodejs.org/en/about/previous-releases);
each is a runtime of CodeBuild's standard images."""

RUNS_NODE = re.compile(r"(^|[\s;&|(])(cdk|cdk-assets|npx|npm|make (install|synth|test))(\s|$)")
"""Commands that start Node.js: the CDK CLI, cdk-assets, npm (and the Makefile targets that call them)."""

today: Callable[[], datetime.date] = datetime.date.today


def build_spec(template: StackTemplate, source: Json) -> dict[str, Json] | None:
    """The project's buildspec: inline JSON/YAML, a ``Fn::Join`` of it (references blanked), or the
    file CDK Pipelines writes next to the template."""
    text = source
    if isinstance(source, dict) and "Fn::Join" in source:
        text = "".join(part if isinstance(part, str) else "REF" for part in source["Fn::Join"][1])
    if not isinstance(text, str):
        return None
    if text.startswith("buildspec-") and template.directory is not None:
        text = (template.directory / text).read_text()
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return parsed if isinstance(parsed, dict) else None


def commands(spec: dict[str, Json]) -> list[str]:
    phases = spec.get("phases") or {}
    return [str(command) for phase in phases.values() for command in (phase or {}).get("commands") or []]


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """CodeBuild runs a build with its image's default runtime when the buildspec names none, and
    changes that default when it reaches end of life; AWS recommends naming the runtime version
    (https://docs.aws.amazon.com/codebuild/latest/userguide/available-runtimes.html,
    https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html#build-spec.phases.install.runtime-versions).
    The CDK CLI and cdk-assets support only Node.js lines that are not past end of life
    (https://docs.aws.amazon.com/cdk/v2/guide/node-versions.html). So every project whose commands
    start Node.js (cdk, cdk-assets, npm, npx, the Makefile's install/synth/test) names
    phases.install.runtime-versions.nodejs, and that line is not past its end of life today."""
    for template in templates:
        for logical_id, resource in template.resources("AWS::CodeBuild::Project"):
            source = resource.get("Properties", {}).get("Source", {})
            spec = build_spec(template, source.get("BuildSpec"))
            if spec is None:
                yield Violation(template.path, logical_id, "its buildspec cannot be read")
                continue
            if not any(RUNS_NODE.search(command) for command in commands(spec)):
                continue
            install = (spec.get("phases") or {}).get("install") or {}
            version = str((install.get("runtime-versions") or {}).get("nodejs", "")).split(".")[0]
            if not version:
                yield Violation(
                    template.path,
                    logical_id,
                    "runs Node.js without runtime-versions.nodejs in its install phase",
                )
            elif version not in NODE_END_OF_LIFE:
                yield Violation(template.path, logical_id, f"nodejs {version!r} is not a known LTS line")
            elif NODE_END_OF_LIFE[version] <= today():
                yield Violation(
                    template.path,
                    logical_id,
                    f"nodejs {version} reached its end of life on {NODE_END_OF_LIFE[version]}: "
                    f"{json.dumps(install.get('runtime-versions'))}",
                )


RULE = DeployRule(
    "codebuild-node-runtime", "CodeBuild steps that run the CDK CLI pin a supported Node.js", check
)
