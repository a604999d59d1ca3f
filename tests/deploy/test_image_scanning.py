"""Rule image-scanning (issue 20): the vulnerability gate reads the scans of a repository that enhanced
scanning covers, with the Amazon Inspector permission those scans need; one configuration per registry."""

import json
from typing import Any

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.image_scanning import RULE
from tests.deploy.conftest import broken, find


def _registry_scanning(body: dict[str, Any]) -> dict[str, Any]:
    (resource,) = [
        r for r in body["Resources"].values() if r["Type"] == "AWS::ECR::RegistryScanningConfiguration"
    ]
    return resource


def test_the_gate_reads_an_enhanced_scanned_repository(shipped_templates: list[StackTemplate]) -> None:
    pipeline = find(shipped_templates, "MoodlePipeline")
    scanning = _registry_scanning(pipeline.body)["Properties"]
    assert scanning["ScanType"] == "ENHANCED"
    assert scanning["Rules"] == [
        {
            "ScanFrequency": "CONTINUOUS_SCAN",
            "RepositoryFilters": [{"Filter": "moodle", "FilterType": "WILDCARD"}],
        }
    ]
    assert "ScanMoodleImage" in json.dumps(pipeline.body)
    assert not RULE.violations(shipped_templates)


def _other_repository(body: dict[str, Any]) -> None:
    _registry_scanning(body)["Properties"]["Rules"][0]["RepositoryFilters"][0]["Filter"] = "other-*"


def _without_inspector(body: dict[str, Any]) -> None:
    for resource in body["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy":
            document = resource["Properties"]["PolicyDocument"]
            document["Statement"] = [
                s for s in document["Statement"] if s.get("Action") != "inspector2:ListFindings"
            ]


def _basic_without_scan_on_push(body: dict[str, Any]) -> None:
    del body["Resources"][
        next(
            k for k, r in body["Resources"].items() if r["Type"] == "AWS::ECR::RegistryScanningConfiguration"
        )
    ]
    for resource in body["Resources"].values():
        if resource["Type"] == "AWS::ECR::Repository":
            resource["Properties"]["ImageScanningConfiguration"] = {"ScanOnPush": False}


def _second_configuration(body: dict[str, Any]) -> None:
    body["Resources"]["Planted"] = json.loads(json.dumps(_registry_scanning(body)))


def test_catches_every_way_the_gate_would_wait_in_vain(shipped_templates: list[StackTemplate]) -> None:
    pipeline = find(shipped_templates, "MoodlePipeline")
    for breakage, expected in (
        (_other_repository, "reads scans of moodle, which enhanced scanning does not cover"),
        (_without_inspector, "reads enhanced scans of moodle without inspector2:ListFindings"),
        (_basic_without_scan_on_push, "reads scans of moodle, which is not scanned on push"),
        (_second_configuration, "registry 111111111111/eu-west-1 is also configured by"),
    ):
        messages = [v.message for v in RULE.violations([broken(pipeline, breakage)])]
        assert len(messages) == 1 and messages[0].startswith(expected), (breakage.__name__, messages)
