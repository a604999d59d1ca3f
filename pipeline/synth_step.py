"""The pipeline's Build stage: install the pinned toolchain, run the fast tests, synthesize.

``make synth`` fails on any unacknowledged cdk-nag finding (cdk-nag is registered on the App), so a
change that breaks compliance never reaches the UpdatePipeline stage.
"""

from aws_cdk import Duration, pipelines
from aws_cdk import aws_codebuild as codebuild

CACHED_PATHS = ("/root/.cache/pip/**/*", "/root/.npm/**/*")
"""pip's and npm's download caches: a warm build skips fetching ~900 MB of wheels and packages."""

SYNTH_TIMEOUT = Duration.minutes(30)


def synth_step(*, source: pipelines.IFileSetProducer) -> pipelines.CodeBuildStep:
    """The Makefile is the one definition of how to install, test and synthesize, on a laptop and here:
    ``make install`` is ``python3.11 -m venv .venv && .venv/bin/pip install -r requirements-dev.txt``
    and ``npm ci``, both from pinned lock files. Node.js comes from the pipeline's CodeBuild defaults
    (pipeline/node_runtime.py)."""
    return pipelines.CodeBuildStep(
        "Synth",
        input=source,
        install_commands=["make install"],
        commands=["make test-fast", "make synth"],
        primary_output_directory="cdk.out",
        timeout=SYNTH_TIMEOUT,
        cache=codebuild.Cache.local(codebuild.LocalCacheMode.CUSTOM),
        partial_build_spec=codebuild.BuildSpec.from_object(
            {
                "phases": {"install": {"runtime-versions": {"python": "3.11"}}},
                "cache": {"paths": list(CACHED_PATHS)},
            }
        ),
    )
