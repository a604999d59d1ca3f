"""A CodeBuild step of the pipeline that runs one of this repository's Python modules against AWS APIs
(``python -m pipeline.<module>``), with the pinned botocore and nothing else installed."""

from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import Duration, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam

STEP_TIMEOUT = Duration.minutes(10)
STEPS_REQUIREMENTS = Path(__file__).resolve().parent / "steps-requirements.txt"
INSTALL = f"pip3 install --quiet --no-deps -r pipeline/{STEPS_REQUIREMENTS.name}"


def python_step(
    step_id: str,
    *,
    source: pipelines.IFileSetProducer,
    commands: Sequence[str],
    policy_statements: Sequence[iam.PolicyStatement],
    env: Mapping[str, str] | None = None,
    timeout: Duration = STEP_TIMEOUT,
    build_spec: Mapping[str, object] | None = None,
) -> pipelines.CodeBuildStep:
    """Python 3.11 (CodeBuild's runtime of that name, as in the synth step); ``build_spec`` is merged
    into the generated one (for a report group)."""
    spec: dict[str, object] = {"phases": {"install": {"runtime-versions": {"python": "3.11"}}}}
    spec.update(build_spec or {})
    return pipelines.CodeBuildStep(
        step_id,
        input=source,
        install_commands=[INSTALL],
        commands=list(commands),
        env=dict(env or {}),
        timeout=timeout,
        partial_build_spec=codebuild.BuildSpec.from_object(spec),
        role_policy_statements=list(policy_statements),
    )
