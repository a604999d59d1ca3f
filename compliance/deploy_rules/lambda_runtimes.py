"""Lambda functions, CodeBuild steps and Synthetics canaries run runtimes that are still supported."""

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

SYNTHETICS_PYTHON_SELENIUM = {
    "syn-python-selenium-6.0": "3.11",
    "syn-python-selenium-7.0": "3.11",
    "syn-python-selenium-8.0": "3.11",
    "syn-python-selenium-11.1": "3.12",
    "syn-python-selenium-12.0": "3.12",
    "syn-python-selenium-13.0": "3.12",
    "syn-python-selenium-14.0": "3.12",
}
"""Synthetics Python Selenium runtimes not deprecated, with their Python version
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Library_python_selenium.html);
5.1 and older were deprecated on 2026-02-03
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Runtime_Support_Policy.html)."""

today: Callable[[], datetime.date] = datetime.date.today


def end_of_life(runtime: str) -> datetime.date | None:
    """``python3.14`` / ``nodejs24.x`` -> the upstream end of life; None for a runtime not known here."""
    if runtime.startswith("python"):
        return PYTHON_END_OF_LIFE.get(runtime.removeprefix("python"))
    if runtime.startswith("nodejs"):
        return codebuild_node_runtime.NODE_END_OF_LIFE.get(runtime.removeprefix("nodejs").split(".")[0])
    return None


def _canary_problem(runtime: str) -> str | None:
    """Synthetics deprecates a runtime once one of its parts (its Python, say) is unsupported."""
    python = SYNTHETICS_PYTHON_SELENIUM.get(runtime)
    if python is None:
        return f"canary runtime {runtime} is not in the table of supported Synthetics runtimes"
    problem = _problem(f"python{python}")
    return f"canary runtime {runtime}: {problem}" if problem else None


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
    version. CloudWatch Synthetics refuses to create a canary on a deprecated runtime, and deprecates a
    runtime when any of its components is no longer supported
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Runtime_Support_Policy.html):
    a canary's runtime must be a Python Selenium runtime of the table whose Python is still supported."""
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
        for logical_id, canary in template.resources("AWS::Synthetics::Canary"):
            runtime = canary.get("Properties", {}).get("RuntimeVersion")
            if isinstance(runtime, str) and (problem := _canary_problem(runtime)):
                yield Violation(template.path, logical_id, problem)


RULE = DeployRule(
    "supported-runtimes", "Lambda, CodeBuild and Synthetics canaries run supported runtimes", check
)
