"""The manual approval that promotes a change from one environment to the next, and what it tells the
approver: the release (Moodle version and image tag) and how long Moodle still fixes its security
issues, where the tested environment can be reviewed,
this execution's compliance results (the link of the approval) and the acknowledgments changed since
the previous commit. Permission broadening is confirmed by the step before it (see pipeline_stack)."""

from dataclasses import dataclass

from aws_cdk import pipelines

from moodle_infra.config import EnvironmentConfig
from moodle_infra.image_pins import PackageChange
from moodle_infra.release_calendar import support

COMMENT_LIMIT = 500
"""CodePipeline's limit on an approval's comment (``CustomData``)."""
VARIABLE_ROOM = 55
"""Kept free for each run-time summary that replaces its ``#{...}`` reference: the acknowledgments'
("9999 added, 9999 removed, 9999 reworded since HEAD^" is 51 characters) and the vulnerability gate's,
which has no BLOCKING part when an approval is reached ("9999 allowed, 9999 reported (worst
INFORMATIONAL)" is 49)."""


@dataclass(frozen=True, kw_only=True)
class ReleaseFacts:
    """What a promotion deploys, known when the pipeline is synthesized."""

    moodle_version: str
    moodle_sha256: str
    image_tag: str
    package_changes: tuple[PackageChange, ...] = ()
    """Debian packages whose pins the synth step moved since the committed ones: a security rebuild."""

    def describe(self) -> str:
        """The checksum's first 12 digits let the approver match it with download.moodle.org's."""
        checksum = f"archive SHA-256 {self.moodle_sha256[:12]}…"
        return f"Moodle {self.moodle_version} ({checksum}), image {self.image_tag}"


@dataclass(frozen=True, kw_only=True)
class ReviewLinks:
    """Pipeline variables (``#{namespace.NAME}``) the synth step exports for this execution."""

    compliance_results: str
    acknowledgment_changes: str
    vulnerability_summary: str
    """The vulnerability gate's one-line result for the image (pipeline/vulnerability_gate.py)."""


def image_scan_sentence(links: ReviewLinks) -> str:
    """What the vulnerability gate found in the image this approval promotes."""
    return f" Image scan: {links.vulnerability_summary}."


def site_url(environment: EnvironmentConfig) -> str | None:
    """Known before deployment only with a custom domain; otherwise it is CloudFront's generated name."""
    return f"https://{environment.custom_domain.domain_name}" if environment.custom_domain else None


def support_note(release: ReleaseFacts) -> str:
    """The release's security support as of this build, from Moodle's release calendar."""
    found = support(release.moodle_version)
    if found.branch is None:
        return f"Moodle {release.moodle_version}: not in the release calendar."
    days = found.security_days_left
    return f"Security fixes until {found.branch.security_end} ({days} days)."


def security_rebuild_sentence(release: ReleaseFacts, room: int) -> str:
    """The packages a security rebuild moved, as many names as fit in ``room`` characters and the rest
    counted. The synth step's log (the approval's link) lists every package with both versions
    (pipeline/image_pins_refresh.py)."""
    names = [change.package for change in release.package_changes]
    if not names:
        return ""
    head = f" Security rebuild, {len(names)} Debian package{'s' if len(names) > 1 else ''} moved"
    for shown in range(len(names), 0, -1):
        tail = f"; +{len(names) - shown} more (Synth log)." if shown < len(names) else "."
        sentence = f"{head}: {', '.join(names[:shown])}{tail}"
        if len(sentence) <= room:
            return sentence
    return f"{head} (Synth log)."


def promotion_comment(
    *, tested: EnvironmentConfig, target: EnvironmentConfig, release: ReleaseFacts, links: ReviewLinks
) -> str:
    tested_where = site_url(tested) or "its SiteUrl output"
    target_url = site_url(target)
    target_where = f" ({target_url})" if target_url else ""
    comment = (
        f"Deploy {release.describe()} to {target.name}{target_where}. {support_note(release)} "
        f"{tested.name} passed its smoke "
        f"tests: review it at {tested_where}. Compliance: the link (Reports tab). "
        f"Acknowledgments: {links.acknowledgment_changes}. IAM/SG broadening: confirmed before."
    ) + image_scan_sentence(links)
    variables = (links.acknowledgment_changes, links.vulnerability_summary)
    resolved_length = len(comment) - sum(map(len, variables)) + VARIABLE_ROOM * len(variables)
    rebuild = security_rebuild_sentence(release, COMMENT_LIMIT - resolved_length)
    comment += rebuild
    if resolved_length + len(rebuild) > COMMENT_LIMIT:
        raise ValueError(
            f"the approval before {target.name} would exceed CodePipeline's {COMMENT_LIMIT} characters: "
            f"shorten moodle.environments.{tested.name}.custom_domain.domain_name or "
            f"moodle.environments.{target.name}.custom_domain.domain_name"
        )
    return comment


def promotion_approval(
    *, tested: EnvironmentConfig, target: EnvironmentConfig, release: ReleaseFacts, links: ReviewLinks
) -> pipelines.ManualApprovalStep:
    """The approval's link opens this execution's compliance results; its comment says what approval
    deploys and where to look first."""
    return pipelines.ManualApprovalStep(
        f"PromoteTo-{target.name}",
        comment=promotion_comment(tested=tested, target=target, release=release, links=links),
        review_url=links.compliance_results,
    )
