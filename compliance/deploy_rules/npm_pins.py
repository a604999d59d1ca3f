"""No CodeBuild step installs an npm package without an exact version."""

import re
import shlex
from collections.abc import Iterator, Sequence

from compliance.deploy_rules.codebuild_node_runtime import build_spec, commands
from compliance.deploy_rules.model import DeployRule, StackTemplate, Violation

INSTALLS = re.compile(r"(?:^|[\s;&|(])npm\s+(?:install|i|add|update|up)(?=\s|$)(?P<arguments>[^;&|)]*)")
"""``npm install`` and its aliases, with the arguments up to the end of that shell command."""

EXACT = re.compile(r"(?:@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*@\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?")
"""``name@1.2.3`` (or ``@scope/name@1.2.3``): one exact release, never a range or a dist-tag."""


def unpinned(command: str) -> list[str]:
    """The package arguments of the npm installs in ``command`` that name no exact version; a bare
    ``npm install`` (which may rewrite the lock file) is reported as itself."""
    found = []
    for match in INSTALLS.finditer(command):
        try:
            words = shlex.split(match.group("arguments"))
        except ValueError:
            words = match.group("arguments").split()
        packages = [word for word in words if not word.startswith("-")]
        if not packages:
            found.append("npm install without packages (use npm ci, which installs package-lock.json)")
        found.extend(package for package in packages if not EXACT.fullmatch(package))
    return found


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """``npm install name`` installs the newest release, and a dist-tag such as ``@latest`` or a range
    moves whenever the package publishes (https://docs.npmjs.com/cli/v10/commands/npm-install); only
    ``npm ci`` installs exactly the lock file (https://docs.npmjs.com/cli/v10/commands/npm-ci). A
    CodeBuild step installing a moving version runs code nobody reviewed and breaks builds unannounced,
    and CodeBuild runs the buildspec's commands as written
    (https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html). So every npm install in
    a CodeBuild project's buildspec names each package with an exact version (package.json pins them
    for the pipeline's own steps: the CDK CLI and cdk-assets)."""
    for template in templates:
        for logical_id, resource in template.resources("AWS::CodeBuild::Project"):
            spec = build_spec(template, resource.get("Properties", {}).get("Source", {}).get("BuildSpec"))
            for command in commands(spec or {}):
                for package in unpinned(command):
                    yield Violation(template.path, logical_id, f"installs {package} without an exact version")


RULE = DeployRule("npm-pins", "CodeBuild steps install npm packages at exact versions", check)
