"""The Node.js that every CodeBuild step running the CDK CLI or cdk-assets uses.

Without ``runtime-versions``, CodeBuild runs a step with its image's default Node.js, which AWS changes
when that default reaches end of life; the pinned CLI (package.json) and cdk-assets would then run on
whatever the image picked. Node.js 22 is a long-term-support line until 2027-04-30
(https://nodejs.org/en/about/previous-releases) and one of the runtimes of CodeBuild's
``aws/codebuild/standard:7.0`` image. The deploy rule ``codebuild-node-runtime`` fails the build once
that date has passed, so moving to the next line is a reviewed change of this constant.
"""

from aws_cdk import aws_codebuild as codebuild

CODEBUILD_NODEJS = "22"


def nodejs_build_spec() -> codebuild.BuildSpec:
    """Merged into the synth, self-mutation and asset publishing projects (their CodeBuild defaults);
    the image build and the smoke tests run no Node.js."""
    return codebuild.BuildSpec.from_object(
        {"phases": {"install": {"runtime-versions": {"nodejs": CODEBUILD_NODEJS}}}}
    )
