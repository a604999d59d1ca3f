"""``python -m pipeline.review_link``: the console address of the running CodeBuild build, whose
*Reports* tab lists the compliance results of this pipeline execution.

The synth step exports it as a pipeline variable, so that each approval links to the results of the
very execution it approves. CodeBuild sets ``CODEBUILD_BUILD_ARN`` in every build
(``arn:<partition>:codebuild:<region>:<account>:build/<project>:<build uuid>``).
"""

import os
import sys

CONSOLE = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


def build_url(build_arn: str) -> str:
    parts = build_arn.split(":")
    if len(parts) != 7 or parts[2] != "codebuild" or not parts[5].startswith("build/"):
        raise ValueError(f"not a CodeBuild build ARN: {build_arn!r}")
    _, partition, _, region, account, build, build_uuid = parts
    project = build.removeprefix("build/")
    host = CONSOLE.get(partition, CONSOLE["aws"])
    return (
        f"https://{region}.{host}/codesuite/codebuild/{account}/projects/{project}/build/"
        f"{project}:{build_uuid}/?region={region}"
    )


def main() -> int:
    build_arn = os.environ.get("CODEBUILD_BUILD_ARN")
    if not build_arn:
        print("CODEBUILD_BUILD_ARN is not set: this runs inside a CodeBuild build", file=sys.stderr)
        return 2
    print(build_url(build_arn))
    return 0


if __name__ == "__main__":
    sys.exit(main())
