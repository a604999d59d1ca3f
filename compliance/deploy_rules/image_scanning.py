"""A role that reads an ECR repository's scan findings reads a repository that is scanned, and may read
what enhanced scanning returns."""

import fnmatch
from collections import defaultdict
from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import (
    DeployRule,
    Json,
    StackTemplate,
    Violation,
    as_list,
    literal,
    referenced_id,
    role_allows,
)

READ_FINDINGS = "ecr:DescribeImageScanFindings"
INSPECTOR_FINDINGS = "inspector2:ListFindings"


def _enhanced_filters(
    templates: Sequence[StackTemplate],
) -> tuple[dict[tuple[str, str], list[str]], list[Violation]]:
    """(account, Region) -> the repository name patterns enhanced scanning covers; and the registries
    configured twice."""
    filters: dict[tuple[str, str], list[str]] = {}
    seen: dict[tuple[str, str], str] = {}
    problems = []
    for template in templates:
        for logical_id, resource in template.resources("AWS::ECR::RegistryScanningConfiguration"):
            registry = (template.account, template.region)
            if registry in seen:
                problems.append(
                    Violation(
                        template.path,
                        logical_id,
                        f"registry {'/'.join(registry)} is also configured by {seen[registry]}",
                    )
                )
            seen[registry] = f"{template.path}/{logical_id}"
            properties = resource.get("Properties", {})
            if properties.get("ScanType") != "ENHANCED":
                continue
            filters[registry] = [
                str(repository_filter.get("Filter"))
                for rule in properties.get("Rules", [])
                for repository_filter in rule.get("RepositoryFilters", [])
            ]
    return filters, problems


def _read_repositories(template: StackTemplate) -> dict[str, set[str]]:
    """Role logical ID -> the repositories (logical IDs) whose findings it is allowed to read."""
    readers: dict[str, set[str]] = defaultdict(set)
    for _, policy in template.resources("AWS::IAM::Policy"):
        properties = policy.get("Properties", {})
        for statement in properties.get("PolicyDocument", {}).get("Statement", []):
            actions = [a for a in as_list(statement.get("Action", [])) if isinstance(a, str)]
            if statement.get("Effect") != "Allow" or READ_FINDINGS not in actions:
                continue
            for resource in as_list(statement.get("Resource", [])):
                repository = referenced_id(resource)
                if repository is not None and template.resource(repository) is not None:
                    for role in as_list(properties.get("Roles", [])):
                        if (role_id := referenced_id(role)) is not None:
                            readers[role_id].add(repository)
    return readers


def _name(repository: dict[str, Json]) -> str | None:
    return literal(repository.get("Properties", {}).get("RepositoryName"))


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """A registry has one scanning configuration (PutRegistryScanningConfiguration replaces it,
    https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutRegistryScanningConfiguration.html).
    Enhanced scanning scans only repositories its rules' filters match, and basic scanning scans on push
    only where the repository turns it on
    (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning.html): a gate waiting for the
    scan of an unscanned repository waits until it times out. Enhanced findings come from Amazon
    Inspector, so the reader also needs inspector2:ListFindings
    (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-enhanced-iam.html)."""
    filters, problems = _enhanced_filters(templates)
    yield from problems
    for template in templates:
        patterns = filters.get((template.account, template.region))
        for role, repositories in _read_repositories(template).items():
            for logical_id in sorted(repositories):
                repository = template.resource(logical_id) or {}
                name = _name(repository) or ""
                if patterns is not None:
                    if not any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns):
                        yield Violation(
                            template.path,
                            role,
                            f"reads scans of {name or logical_id}, which enhanced scanning does not cover",
                        )
                    elif not role_allows(template, role, INSPECTOR_FINDINGS):
                        yield Violation(
                            template.path,
                            role,
                            f"reads enhanced scans of {name} without {INSPECTOR_FINDINGS}",
                        )
                elif not (repository.get("Properties", {}).get("ImageScanningConfiguration") or {}).get(
                    "ScanOnPush"
                ):
                    yield Violation(
                        template.path,
                        role,
                        f"reads scans of {name or logical_id}, which is not scanned on push",
                    )


RULE = DeployRule("image-scanning", "Scan findings are read only from repositories that are scanned", check)
