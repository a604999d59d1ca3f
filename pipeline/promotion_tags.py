"""``python -m pipeline.promotion_tags mark|release``: the tags that keep an environment's images in ECR.

The image repository's lifecycle policy (pipeline/image_repository.py) never expires an image that
carries a ``deployed-<environment>-`` tag. Before an environment deploys, ``mark`` adds such a tag to the
image it is about to run (``deployed-prod-20261205T061500Z-img-…``: tags are immutable, so each
promotion gets its own, and the time orders them). After the environment deployed successfully,
``release`` removes that environment's older promotion tags but the newest :data:`KEPT_PROMOTIONS`.

Why this is safe: an environment's task definitions can only name an image that was marked for it
(every deploy marks first). A failed deploy rolls back to the image of the last *successful* one,
whose tag is still there because tags are released only after a success, and then the newest ones
are kept: the image running now and the ones before it, which a revert may bring back. Removing a
tag from an image that keeps other tags leaves the image in place (ECR's BatchDeleteImage deletes an
image only with its last tag); this module never removes an image's last tag.

Runs in a CodeBuild step of the pipeline with botocore only (pipeline/steps-requirements.txt).
"""

import argparse
import datetime
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

PROMOTION_PREFIX = "deployed-"
KEPT_PROMOTIONS = 3
"""The image running now, the one before it (CloudFormation's and ECS's rollback target while the next
deploy runs) and one more for a revert."""


def promotion_prefix(environment: str) -> str:
    return f"{PROMOTION_PREFIX}{environment}-"


def promotion_tag(environment: str, image_tag: str, now: datetime.datetime) -> str:
    return f"{promotion_prefix(environment)}{now.strftime('%Y%m%dT%H%M%SZ')}-{image_tag}"


def mark(client: Any, *, repository: str, image_tag: str, environment: str, now: datetime.datetime) -> str:
    """Tag the image ``image_tag`` for ``environment``: the same manifest under one more tag."""
    found = client.batch_get_image(
        repositoryName=repository,
        imageIds=[{"imageTag": image_tag}],
        acceptedMediaTypes=[
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
        ],
    )
    if not found["images"]:
        reasons = "; ".join(failure.get("failureReason", "") for failure in found.get("failures", []))
        raise LookupError(f"{repository}:{image_tag} is not in the repository ({reasons or 'not found'})")
    image = found["images"][0]
    tag = promotion_tag(environment, image_tag, now)
    media_type = (
        {"imageManifestMediaType": image["imageManifestMediaType"]}
        if "imageManifestMediaType" in image
        else {}
    )
    client.put_image(
        repositoryName=repository, imageManifest=image["imageManifest"], imageTag=tag, **media_type
    )
    return tag


def release(client: Any, *, repository: str, environment: str, keep: int = KEPT_PROMOTIONS) -> list[str]:
    """Remove ``environment``'s promotion tags but the newest ``keep``; never an image's last tag."""
    tags_of: dict[str, set[str]] = defaultdict(set)
    digest_of: dict[str, str] = {}
    for page in client.get_paginator("list_images").paginate(
        repositoryName=repository, filter={"tagStatus": "TAGGED"}
    ):
        for image in page["imageIds"]:
            if "imageTag" in image:
                tags_of[image["imageDigest"]].add(image["imageTag"])
                digest_of[image["imageTag"]] = image["imageDigest"]
    promotions = sorted(
        (tag for tag in digest_of if tag.startswith(promotion_prefix(environment))), reverse=True
    )
    released = [tag for tag in promotions[keep:] if len(tags_of[digest_of[tag]]) > 1]
    if released:
        result = client.batch_delete_image(
            repositoryName=repository, imageIds=[{"imageTag": tag} for tag in released]
        )
        if result.get("failures"):
            raise RuntimeError(f"could not remove promotion tags: {result['failures']}")
    return released


def main(argv: Sequence[str] | None = None, *, client_factory: Callable[[], Any] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.promotion_tags", description=__doc__)
    parser.add_argument("command", choices=("mark", "release"))
    parser.add_argument("--repository", required=True)
    parser.add_argument("--environment", required=True)
    parser.add_argument("--image-tag", help="the image to mark (mark only)")
    arguments = parser.parse_args(argv)
    client = (client_factory or _ecr_client)()
    if arguments.command == "mark":
        if not arguments.image_tag:
            parser.error("mark needs --image-tag")
        now = datetime.datetime.now(datetime.UTC)
        tag = mark(
            client,
            repository=arguments.repository,
            image_tag=arguments.image_tag,
            environment=arguments.environment,
            now=now,
        )
        print(f"{arguments.repository}:{arguments.image_tag} is now also {tag}")
    else:
        released = release(client, repository=arguments.repository, environment=arguments.environment)
        listed = ", ".join(released) or "-"
        print(f"released {len(released)} older {arguments.environment} promotion tags: {listed}")
    return 0


def _ecr_client() -> Any:
    import botocore.session  # type: ignore[import-untyped]

    return botocore.session.get_session().create_client("ecr")


if __name__ == "__main__":
    sys.exit(main())
