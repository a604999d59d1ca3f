"""The Node.js that every CodeBuild step running the CDK CLI or cdk-assets uses.

Without ``runtime-versions``, CodeBuild runs a step with its image's default Node.js, which AWS changes
when that default reaches end of life; the pinned CLI (package.json) and cdk-assets would then run on
whatever the image picked. Node.js 22 is a long-term-support line until 2027-04-30
(https://nodejs.org/en/about/previous-releases) and one of the runtimes of CodeBuild's
``aws/codebuild/standard:7.0`` image. The deploy rule ``codebuild-node-runtime`` fails the build once
that date has passed, so moving to the next line is a reviewed change of this constant.
"""

from aws_cdk import Stack
from aws_cdk import aws_codebuild as codebuild
from constructs import Construct

CODEBUILD_NODEJS = "22"
SECURITY_CHECK_PATH = "PipelinesSecurityCheck/CDKSecurityCheck"
"""The CodeBuild project ``ConfirmPermissionsBroadening`` adds, once per pipeline."""


def nodejs_build_spec() -> codebuild.BuildSpec:
    """Merged into the synth, self-mutation and asset publishing projects (their CodeBuild defaults);
    the image build and the smoke tests run no Node.js."""
    return codebuild.BuildSpec.from_object(
        {"phases": {"install": {"runtime-versions": {"nodejs": CODEBUILD_NODEJS}}}}
    )


def pin_security_check(pipeline: Construct, *, cli_version: str) -> None:
    """The permissions check's project runs ``npm install -g aws-cdk`` on the image's default Node.js and
    takes no CodeBuild defaults: pin both in its buildspec, as in every other step that runs the CLI."""
    project = pipeline.node.find_child("PipelinesSecurityCheck").node.find_child("CDKSecurityCheck")
    cfn_project = project.node.default_child
    assert isinstance(cfn_project, codebuild.CfnProject)
    build_spec = Stack.of(pipeline).resolve(cfn_project.source)["buildSpec"]
    parts = build_spec["Fn::Join"][1]
    head = parts[0]
    for old, new in (
        (
            '"phases": {\n',
            f'"phases": {{\n    "install": {{"runtime-versions": {{"nodejs": "{CODEBUILD_NODEJS}"}}}},\n',
        ),
        ('"npm install -g aws-cdk"', f'"npm install -g aws-cdk@{cli_version}"'),
    ):
        if head.count(old) != 1:
            raise ValueError(f"{SECURITY_CHECK_PATH}: its buildspec no longer has {old!r}; revisit this pin")
        head = head.replace(old, new)
    cfn_project.add_property_override("Source.BuildSpec", {"Fn::Join": ["", [head, *parts[1:]]]})
