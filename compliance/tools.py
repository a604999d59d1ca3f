"""cfn-lint and checkov over every template of a cloud assembly, run side by side.

cfn-lint comes from the project's virtualenv (it shares pins with the tests); checkov from its own,
``.venv-checkov`` (``make checkov-install``), whose pins would otherwise drag the others around. Both
run offline: checkov is told not to download guidelines or policies.
"""

import importlib.metadata
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
CFN_LINT_CONFIG = ROOT / ".cfnlintrc.yaml"
LINT_PROCESSES = 2
"""cfn-lint takes longer than checkov: two cfn-lint processes beside checkov keep both cores busy."""

CHECKOV_OFFLINE_ENVIRONMENT = {
    "BC_SKIP_MAPPING": "TRUE",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
    "ENABLE_DEFINITION_KEY": "false",
    "LOG_LEVEL": "ERROR",
}
"""Without these checkov tries to fetch guidelines from the internet and waits for the timeout."""


@dataclass(frozen=True)
class LintMatch:
    rule_id: str
    level: str
    """``Error``, ``Warning`` or ``Informational``."""
    message: str
    template: str
    path: str
    """Where in the template, e.g. ``Resources/Pipeline9850B417/Properties/Stages/4``."""


@dataclass(frozen=True)
class CheckResult:
    check_id: str
    name: str
    template: str
    resource: str
    """``AWS::S3::Bucket.LogicalId``."""
    comment: str = ""
    """The reason of a skipped check."""


@dataclass
class ToolResults:
    cfn_lint_version: str = ""
    lint_matches: list[LintMatch] = field(default_factory=list)
    lint_seconds: float = 0.0
    checkov_version: str = ""
    passed: int = 0
    passed_checks: list[CheckResult] = field(default_factory=list)
    """The passed checks themselves (``passed`` counts them), for the per-check JUnit cases."""
    failed: list[CheckResult] = field(default_factory=list)
    skipped: list[CheckResult] = field(default_factory=list)
    parsing_errors: list[str] = field(default_factory=list)
    checkov_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    """A tool that could not run at all."""


def run_tools(templates: list[Path], *, base: Path) -> ToolResults:
    """Run both tools over ``templates``; paths in the results are relative to ``base``."""
    results = ToolResults()
    relative = [os.path.relpath(template, base) for template in templates]
    started = time.perf_counter()
    checkov = _start_checkov(relative, base, results)
    if CFN_LINT.exists():
        shards = [
            subprocess.Popen(
                [str(CFN_LINT), "--config-file", str(CFN_LINT_CONFIG), "--format", "json", "--", *shard],
                cwd=base,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for shard in _shards(relative, base, LINT_PROCESSES)
        ]
        for shard_process in shards:
            output, errors = shard_process.communicate()
            _read_lint(shard_process.returncode, output, errors, results)
        results.lint_seconds = time.perf_counter() - started
    else:
        results.errors.append(f"cfn-lint is not installed at {CFN_LINT}: run `make install`")
    if checkov is not None:
        output, errors = checkov.communicate()
        results.checkov_seconds = time.perf_counter() - started
        _read_checkov(checkov.returncode, output, errors, results)
    results.cfn_lint_version = importlib.metadata.version("cfn-lint")
    return results


def _start_checkov(templates: list[str], base: Path, results: ToolResults) -> subprocess.Popen[str] | None:
    if not CHECKOV.exists():
        results.errors.append(f"checkov is not installed at {CHECKOV}: run `make checkov-install`")
        return None
    arguments = [
        str(CHECKOV),
        "--framework",
        "cloudformation",
        "--skip-download",
        "--compact",
        "--output",
        "json",
    ]
    for template in templates:
        arguments += ["--file", template]
    return subprocess.Popen(
        arguments,
        cwd=base,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | CHECKOV_OFFLINE_ENVIRONMENT,
    )


def _shards(templates: list[str], base: Path, count: int) -> list[list[str]]:
    """``templates`` in ``count`` groups of about the same total size (cfn-lint's time follows size)."""
    shards: list[list[str]] = [[] for _ in range(count)]
    sizes = [0] * count
    for template in sorted(templates, key=lambda name: -(base / name).stat().st_size):
        smallest = sizes.index(min(sizes))
        shards[smallest].append(template)
        sizes[smallest] += (base / template).stat().st_size
    return [shard for shard in shards if shard]


def _read_lint(returncode: int, output: str, errors: str, results: ToolResults) -> None:
    try:
        matches: list[dict[str, Any]] = json.loads(output or "[]")
    except json.JSONDecodeError:
        results.errors.append(f"cfn-lint failed (exit {returncode}): {errors.strip()[-2000:]}")
        return
    for match in matches:
        results.lint_matches.append(
            LintMatch(
                rule_id=match["Rule"]["Id"],
                level=match["Level"],
                message=match["Message"],
                template=match["Filename"],
                path="/".join(str(part) for part in match["Location"].get("Path") or []),
            )
        )


def _read_checkov(returncode: int, output: str, errors: str, results: ToolResults) -> None:
    try:
        reports = json.loads(output)
    except json.JSONDecodeError:
        results.errors.append(f"checkov failed (exit {returncode}): {errors.strip()[-2000:]}")
        return
    for report in reports if isinstance(reports, list) else [reports]:
        if "results" not in report:  # no template of this framework
            continue
        checks = report["results"]
        results.checkov_version = str(report.get("summary", {}).get("checkov_version", ""))
        results.passed_checks.extend(_check(check) for check in checks.get("passed_checks", []))
        results.passed = len(results.passed_checks)
        results.failed.extend(_check(check) for check in checks.get("failed_checks", []))
        results.skipped.extend(_check(check) for check in checks.get("skipped_checks", []))
        results.parsing_errors.extend(checks.get("parsing_errors", []))


def _check(check: dict[str, Any]) -> CheckResult:
    return CheckResult(
        check_id=check["check_id"],
        name=check.get("check_name", ""),
        template=str(check.get("file_path", "")).lstrip("/"),
        resource=check.get("resource", ""),
        comment=str((check.get("check_result") or {}).get("suppress_comment") or ""),
    )
