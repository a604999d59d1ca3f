"""Single checks whose inputs need no site: the scheme rule and origin-private with a fake resolver."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from smoke.checks import CheckContext, CheckFailedError, CheckSkippedError, check_https, check_origin_private
from smoke.client import HttpClient, tls_context
from smoke.origin import resolve_with_system_dns
from smoke.site import Site
from smoke.timing import Backoff, Deadline, RetryPolicy

ALB_NAME = "internal-moodle-123.eu-west-1.elb.amazonaws.com"


def context(
    url: str = "https://d111.cloudfront.net",
    alb_dns_name: str | None = ALB_NAME,
    resolve: Callable[[str], list[str]] = lambda host: [],
) -> CheckContext:
    """A context whose client is never used by the checks under test."""
    client = HttpClient(
        tls=tls_context(None),
        request_timeout=0.1,
        deadline=Deadline(1),
        retry=RetryPolicy(attempts=1, backoff=Backoff(first_delay=0, max_delay=0)),
    )
    return CheckContext(
        site=Site.from_url(url),
        client=client,
        health_path="/healthz",
        http_port=80,
        alb_dns_name=alb_dns_name,
        resolve=resolve,
    )


def answering(*addresses: str) -> Callable[[str], list[str]]:
    return lambda host: list(addresses) if host == ALB_NAME else []


def test_https_needs_an_https_url() -> None:
    with pytest.raises(
        CheckFailedError, match=r"expected an https:// site URL, got http://d111.cloudfront.net"
    ):
        check_https(context(url="http://d111.cloudfront.net"))


@pytest.mark.parametrize(
    "addresses",
    [
        pytest.param(["10.0.1.17", "10.0.2.33"], id="rfc1918-10"),
        pytest.param(["172.16.0.5", "172.31.255.254"], id="rfc1918-172.16"),
        pytest.param(["192.168.10.20"], id="rfc1918-192.168"),
        pytest.param(["100.64.3.4"], id="shared-address-space-vpc-cidr"),
        pytest.param(["fd12:3456:789a::10", "10.0.1.17"], id="ipv6-unique-local"),
        pytest.param(["127.0.0.1"], id="loopback"),
    ],
)
def test_origin_private_passes_for_addresses_the_internet_cannot_reach(addresses: list[str]) -> None:
    seen = check_origin_private(context(resolve=answering(*addresses)))

    assert seen == f"{ALB_NAME} resolves to {', '.join(addresses)}, none globally routable"


@pytest.mark.parametrize(
    ("addresses", "public"),
    [
        pytest.param(["52.95.110.1", "3.5.140.2"], "52.95.110.1, 3.5.140.2", id="public"),
        pytest.param(["10.0.1.17", "52.95.110.1"], "52.95.110.1", id="mixed"),
        pytest.param(["172.32.0.1"], "172.32.0.1", id="just-outside-172.16/12"),
        pytest.param(["2600:1f18::1"], "2600:1f18::1", id="ipv6-global"),
        pytest.param(["::ffff:52.95.110.1"], "::ffff:52.95.110.1", id="ipv4-mapped-public"),
    ],
)
def test_origin_private_fails_for_any_public_address(addresses: list[str], public: str) -> None:
    with pytest.raises(CheckFailedError) as failure:
        check_origin_private(context(resolve=answering(*addresses)))

    assert f"got public {public} among {', '.join(addresses)}" in str(failure.value)


def test_origin_private_fails_when_the_name_does_not_resolve() -> None:
    def nxdomain(host: str) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(CheckFailedError, match=r"lookup failed: .*Name or service not known"):
        check_origin_private(context(resolve=nxdomain))


def test_origin_private_fails_when_the_name_has_no_addresses() -> None:
    with pytest.raises(CheckFailedError, match="to resolve to private addresses, got none"):
        check_origin_private(context(resolve=answering()))


def test_origin_private_is_skipped_without_a_name() -> None:
    with pytest.raises(CheckSkippedError, match="--alb-dns-name or SMOKE_ALB_DNS_NAME"):
        check_origin_private(context(alb_dns_name=None))


def test_the_system_resolver_answers_for_localhost_from_the_hosts_file() -> None:
    assert "127.0.0.1" in resolve_with_system_dns("localhost")
