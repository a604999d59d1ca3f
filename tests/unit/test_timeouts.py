"""Long requests (issue 10 item 6): CloudFront, the ALB, nginx and PHP agree with moodle_infra/timeouts.py
and with each other, in the templates and in the image's configuration files."""

import configparser
import re
from pathlib import Path

import pytest

from moodle_infra import timeouts
from tests.conftest import ROOT, TemplateOf

NGINX_CONF = ROOT / "image" / "nginx" / "nginx.conf"
PHP_INI = ROOT / "image" / "php" / "moodle.ini"


def nginx_seconds(text: str, directive: str) -> list[int]:
    """Every value of ``directive`` (in seconds, ``75s`` or ``75``), comments ignored."""
    lines = [line.split("#", 1)[0] for line in text.splitlines()]
    pattern = re.compile(rf"^\s*{directive}\s+(\d+)s?\s*;")
    return [int(match.group(1)) for line in lines if (match := pattern.match(line))]


def php_setting(text: str, name: str) -> str:
    parser = configparser.ConfigParser(comment_prefixes=(";",), inline_comment_prefixes=(";",))
    parser.read_string("[php]\n" + text)
    return parser["php"][name]


def test_the_figures_are_ordered_so_the_front_hop_decides() -> None:
    assert timeouts.PHP_MAX_EXECUTION_TIME < timeouts.CLOUDFRONT_ORIGIN_READ_TIMEOUT
    assert timeouts.CLOUDFRONT_ORIGIN_READ_TIMEOUT <= 60, "more needs a CloudFront quota increase"
    assert timeouts.CLOUDFRONT_ORIGIN_KEEPALIVE_TIMEOUT <= 60, "more needs a CloudFront quota increase"
    assert timeouts.ALB_IDLE_TIMEOUT > timeouts.CLOUDFRONT_ORIGIN_READ_TIMEOUT
    assert timeouts.ALB_IDLE_TIMEOUT > timeouts.CLOUDFRONT_ORIGIN_KEEPALIVE_TIMEOUT
    assert timeouts.NGINX_UPSTREAM_TIMEOUT >= timeouts.ALB_IDLE_TIMEOUT
    assert timeouts.NGINX_KEEPALIVE_TIMEOUT > timeouts.ALB_IDLE_TIMEOUT, "issue 9 item 5"


@pytest.mark.parametrize(
    ("directive", "expected"),
    [
        ("keepalive_timeout", timeouts.NGINX_KEEPALIVE_TIMEOUT),
        ("client_body_timeout", timeouts.NGINX_UPSTREAM_TIMEOUT),
        ("fastcgi_read_timeout", timeouts.NGINX_UPSTREAM_TIMEOUT),
        ("fastcgi_send_timeout", timeouts.NGINX_UPSTREAM_TIMEOUT),
    ],
)
def test_nginx_conf_says_the_same(directive: str, expected: int) -> None:
    values = nginx_seconds(NGINX_CONF.read_text(), directive)
    assert values, f"{directive} is not set in {NGINX_CONF}: nginx's default (60 s) would apply"
    assert set(values) == {expected}


def test_php_ini_says_the_same() -> None:
    assert int(php_setting(PHP_INI.read_text(), "max_execution_time")) == timeouts.PHP_MAX_EXECUTION_TIME


def test_the_parsers_read_what_they_claim(tmp_path: Path) -> None:
    """Negative control for the two parsers: a commented-out or different value is seen as such."""
    text = "http {\n  # keepalive_timeout 75s;\n  keepalive_timeout 30;\n}\n"
    assert nginx_seconds(text, "keepalive_timeout") == [30]
    assert (
        php_setting("; max_execution_time = 55\nmax_execution_time = 300 ; why\n", "max_execution_time")
        == "300"
    )


def test_templates_use_the_figures(template: TemplateOf) -> None:
    application = template("prod", "Application")
    distribution = next(iter(application.find_resources("AWS::CloudFront::Distribution").values()))
    origin = distribution["Properties"]["DistributionConfig"]["Origins"][0]["VpcOriginConfig"]
    assert origin["OriginReadTimeout"] == timeouts.CLOUDFRONT_ORIGIN_READ_TIMEOUT
    assert origin["OriginKeepaliveTimeout"] == timeouts.CLOUDFRONT_ORIGIN_KEEPALIVE_TIMEOUT
    balancer = next(iter(application.find_resources("AWS::ElasticLoadBalancingV2::LoadBalancer").values()))
    attributes = {item["Key"]: item["Value"] for item in balancer["Properties"]["LoadBalancerAttributes"]}
    assert attributes["idle_timeout.timeout_seconds"] == str(timeouts.ALB_IDLE_TIMEOUT)
