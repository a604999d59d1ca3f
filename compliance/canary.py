"""The gate's own negative control: a small bad template that cfn-lint and checkov lint alongside the
app's templates on every run, in the same two processes (so it costs almost nothing).

If either tool stops catching what the canary plants (a misconfigured tool, a rule set that failed to
load, a changed output format), the gate fails instead of passing everything. Results about the canary
are taken out of the app's results.
"""

import json
from pathlib import Path

from compliance.tools import ToolResults

FILE_NAME = "compliance-canary.template.json"
RESOURCE = "CanaryBucket"

EXPECTED_LINT = "E3002"
"""cfn-lint: a property the resource type does not have."""
EXPECTED_FAILURE = "CKV_AWS_18"
"""checkov: an S3 bucket without access logging."""
EXPECTED_SKIP = "CKV_AWS_21"
"""checkov: a skip declared in the resource's metadata must be honoured, with its comment."""
SKIP_COMMENT = "The canary declares this skip to prove that checkov honours skips."

TEMPLATE = {
    "Resources": {
        RESOURCE: {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketNameTypo": "planted-by-the-compliance-gate"},
            "Metadata": {"checkov": {"skip": [{"id": EXPECTED_SKIP, "comment": SKIP_COMMENT}]}},
        }
    }
}


def write_canary(directory: Path) -> Path:
    path = directory / FILE_NAME
    path.write_text(json.dumps(TEMPLATE, indent=1))
    return path


def take_canary_results(results: ToolResults) -> list[str]:
    """Remove the canary's results from ``results``; return what the tools failed to catch."""
    lint = [match for match in results.lint_matches if Path(match.template).name == FILE_NAME]
    failed = [check for check in results.failed if Path(check.template).name == FILE_NAME]
    skipped = [check for check in results.skipped if Path(check.template).name == FILE_NAME]
    results.lint_matches = [match for match in results.lint_matches if match not in lint]
    results.failed = [check for check in results.failed if check not in failed]
    results.skipped = [check for check in results.skipped if check not in skipped]
    results.passed_checks = [
        check for check in results.passed_checks if Path(check.template).name != FILE_NAME
    ]
    results.passed = len(results.passed_checks)
    missed = []
    if not any(match.rule_id == EXPECTED_LINT for match in lint):
        missed.append(f"negative control: cfn-lint did not report {EXPECTED_LINT} on the canary template")
    if not any(check.check_id == EXPECTED_FAILURE for check in failed):
        missed.append(f"negative control: checkov did not fail {EXPECTED_FAILURE} on the canary bucket")
    if not any(check.check_id == EXPECTED_SKIP and check.comment == SKIP_COMMENT for check in skipped):
        missed.append(f"negative control: checkov did not honour the canary's skip of {EXPECTED_SKIP}")
    return missed
