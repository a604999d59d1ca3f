"""The promotion tags that keep each environment's images in ECR (pipeline/promotion_tags.py), against
botocore's Stubber, and the lifecycle policy that honours them."""

import datetime
from typing import Any

import botocore.session  # type: ignore[import-untyped]
import pytest
from botocore.stub import Stubber  # type: ignore[import-untyped]

from pipeline.promotion_tags import KEPT_PROMOTIONS, main, mark, promotion_tag, release

REPOSITORY = "moodle"
NOW = datetime.datetime(2026, 12, 5, 6, 15, 0, tzinfo=datetime.UTC)
MANIFEST = '{"schemaVersion": 2}'
MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


@pytest.fixture
def ecr() -> Any:
    return botocore.session.get_session().create_client(
        "ecr", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def _digest(n: int) -> str:
    return f"sha256:{n:064x}"


def test_mark_puts_the_same_manifest_under_a_time_ordered_environment_tag(ecr: Any) -> None:
    with Stubber(ecr) as stub:
        stub.add_response(
            "batch_get_image",
            {
                "images": [
                    {
                        "imageId": {"imageTag": "img-1", "imageDigest": _digest(1)},
                        "imageManifest": MANIFEST,
                        "imageManifestMediaType": MEDIA_TYPE,
                    }
                ],
                "failures": [],
            },
        )
        stub.add_response(
            "put_image",
            {"image": {"imageId": {"imageTag": "x"}}},
            {
                "repositoryName": REPOSITORY,
                "imageManifest": MANIFEST,
                "imageManifestMediaType": MEDIA_TYPE,
                "imageTag": "deployed-prod-20261205T061500Z-img-1",
            },
        )
        tag = mark(ecr, repository=REPOSITORY, image_tag="img-1", environment="prod", now=NOW)
        stub.assert_no_pending_responses()
    assert tag == "deployed-prod-20261205T061500Z-img-1"


def test_mark_refuses_an_image_that_is_not_there(ecr: Any) -> None:
    with Stubber(ecr) as stub:
        stub.add_response(
            "batch_get_image",
            {
                "images": [],
                "failures": [
                    {"imageId": {"imageTag": "img-9"}, "failureReason": "Requested image not found"}
                ],
            },
        )
        with pytest.raises(
            LookupError, match=r"moodle:img-9 is not in the repository \(Requested image not found"
        ):
            mark(ecr, repository=REPOSITORY, image_tag="img-9", environment="dev", now=NOW)


def _promotions(environment: str, count: int) -> list[dict[str, str]]:
    """``count`` promotions of ``environment``, one a day, each to its own image (with its img- tag)."""
    ids = []
    for day in range(count):
        when = NOW - datetime.timedelta(days=day)
        ids.append({"imageDigest": _digest(day), "imageTag": promotion_tag(environment, f"img-{day}", when)})
        ids.append({"imageDigest": _digest(day), "imageTag": f"img-{day}"})
    return ids


def test_release_keeps_the_newest_promotions_of_one_environment_only(ecr: Any) -> None:
    dev = _promotions("dev", 6)
    prod = _promotions("prod", 5)
    first_page, second_page = (dev + prod)[:7], (dev + prod)[7:]
    expected = [promotion_tag("dev", f"img-{day}", NOW - datetime.timedelta(days=day)) for day in (3, 4, 5)]
    with Stubber(ecr) as stub:
        stub.add_response("list_images", {"imageIds": first_page, "nextToken": "page-2"})
        stub.add_response(
            "list_images",
            {"imageIds": second_page},
            {"repositoryName": REPOSITORY, "filter": {"tagStatus": "TAGGED"}, "nextToken": "page-2"},
        )
        stub.add_response(
            "batch_delete_image",
            {"imageIds": [{"imageTag": tag} for tag in expected], "failures": []},
            {"repositoryName": REPOSITORY, "imageIds": [{"imageTag": tag} for tag in expected]},
        )
        released = release(ecr, repository=REPOSITORY, environment="dev")
        stub.assert_no_pending_responses()
    assert KEPT_PROMOTIONS == 3
    assert released == expected


def test_release_never_removes_an_images_last_tag(ecr: Any) -> None:
    """Negative control: a promotion tag that is all an image has left would delete the image."""
    lonely = [
        {
            "imageDigest": _digest(day),
            "imageTag": promotion_tag("prod", f"img-{day}", NOW - datetime.timedelta(days=day)),
        }
        for day in range(5)
    ]
    with Stubber(ecr) as stub:
        stub.add_response("list_images", {"imageIds": lonely})
        assert release(ecr, repository=REPOSITORY, environment="prod") == []
        stub.assert_no_pending_responses()


def test_release_fails_loudly_when_ecr_refuses(ecr: Any) -> None:
    with Stubber(ecr) as stub:
        stub.add_response("list_images", {"imageIds": _promotions("staging", 4)})
        stub.add_response(
            "batch_delete_image",
            {
                "imageIds": [{"imageTag": "t"}],
                "failures": [{"imageId": {"imageTag": "u"}, "failureCode": "ImageNotFound"}],
            },
        )
        with pytest.raises(RuntimeError, match="could not remove promotion tags"):
            release(ecr, repository=REPOSITORY, environment="staging")


def test_the_command_line_marks_with_the_current_time(ecr: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with Stubber(ecr) as stub:
        stub.add_response(
            "batch_get_image",
            {"images": [{"imageId": {"imageTag": "img-1"}, "imageManifest": MANIFEST}], "failures": []},
        )
        stub.add_response("put_image", {"image": {}})
        arguments = ["mark", "--repository", REPOSITORY, "--environment", "dev", "--image-tag", "img-1"]
        assert main(arguments, client_factory=lambda: ecr) == 0
    assert "moodle:img-1 is now also deployed-dev-" in capsys.readouterr().out
