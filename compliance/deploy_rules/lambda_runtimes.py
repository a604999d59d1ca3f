"""Lambda functions and CodeBuild steps run language versions that are still supported."""

import datetime
from collections.abc import Callable, Iterator, Sequence

from compliance.deploy_rules import codebuild_node_runtime
from compliance.deploy_rules.model import DeployRule, StackTemplate, Violation

PYTHON_END_OF_LIFE = {
    "3.9": datetime.date(2025, 10, 31),
    "3.10": datetime.date(2026, 10, 31),
    "3.11": datetime.date(2027, 10, 31),
    "3.12": datetime.date(2028, 10, 31),
    "3.13": datetime.date(2029, 10, 31),
    "3.14": datetime.date(2030, 10, 31),
}
"""CPython's end of life per version (https://devguide.python.org/versions/)."""

today: Callable[[], datetime.date] = datetime.date.today


def end_of_life(runtime: str) -> datetime.date | None:
    """``python3.14`` / ``nodejs24.x`` -> the upstream end of life; None for a runtime not known here."""
    if runtime.startswith("python"):
        return PYTHON_END_OF_LIFE.get(runtime.removeprefix("python"))
    if runtime.startswith("nodejs"):
        return codebuild_node_runtime.NODE_END_OF_LIFE.get(runtime.removeprefix("nodejs").split(".")[0])
    return None


def _problem(runtime: str) -> str | None:
    date = end_of_life(runtime)
    if date is None:
        return f"runtime {runtime} is not in the table of supported runtimes"
    if date <= today():
        return f"runtime {runtime} reached its end of life on {date}"
    return None


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """Lambda deprecates a runtime when its language version reaches end of life and then blocks creating
    and updating functions on it (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html#runtime-support-policy):
    a template with such a runtime fails on the next deploy that touches the function, including the
    handlers of CDK's own custom resources. CodeBuild likewise drops runtime versions from its images
    when they reach end of life (https://docs.aws.amazon.com/codebuild/latest/userguide/available-runtimes.html).
    So every Lambda runtime and every CodeBuild python runtime-version must be a known version whose
    upstream end of life (Python's, Node.js's) has not passed; the table is updated with each new
    version."""
    for template in templates:
        for logical_id, function in template.resources("AWS::Lambda::Function"):
            runtime = function.get("Properties", {}).get("Runtime")
            if isinstance(runtime, str) and (problem := _problem(runtime)):
                yield Violation(template.path, logical_id, problem)
        for logical_id, project in template.resources("AWS::CodeBuild::Project"):
            source = project.get("Properties", {}).get("Source", {})
            spec = codebuild_node_runtime.build_spec(template, source.get("BuildSpec")) or {}
            install = (spec.get("phases") or {}).get("install") or {}
            python = (install.get("runtime-versions") or {}).get("python")
            if python is not None and (problem := _problem(f"python{python}")):
                yield Violation(template.path, logical_id, problem)


RULE = DeployRule("supported-runtimes", "Lambda and CodeBuild run supported language versions", check)
