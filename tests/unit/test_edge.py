"""CloudFront: VPC origin, Host forwarding, caching, security headers, TLS, logging."""

from aws_cdk.assertions import Match

from moodle_infra.edge import STATIC_PATH_PATTERNS
from tests.conftest import TemplateOf

ALL_VIEWER_ORIGIN_REQUEST_POLICY = "216adef6-5c7f-47e4-b989-5492eafa07d3"
CACHING_DISABLED_POLICY = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def _distribution(template: TemplateOf, environment: str) -> dict:
    distributions = template(environment, "Application").find_resources("AWS::CloudFront::Distribution")
    assert len(distributions) == 1
    return next(iter(distributions.values()))["Properties"]["DistributionConfig"]


def test_origin_is_a_vpc_origin_to_the_internal_alb(template: TemplateOf) -> None:
    app = template("prod", "Application")
    origin = app.find_resources("AWS::CloudFront::VpcOrigin")
    assert len(origin) == 1
    endpoint = next(iter(origin.values()))["Properties"]["VpcOriginEndpointConfig"]
    assert "LoadBalancer" in str(endpoint["Arn"])
    assert endpoint["OriginProtocolPolicy"] == "http-only"
    origins = _distribution(template, "prod")["Origins"]
    assert len(origins) == 1 and "VpcOriginConfig" in origins[0]


def test_origin_uses_tls_when_a_custom_domain_is_configured(template: TemplateOf) -> None:
    endpoint = next(
        iter(template("prod-domain", "Application").find_resources("AWS::CloudFront::VpcOrigin").values())
    )["Properties"]["VpcOriginEndpointConfig"]
    assert endpoint["OriginProtocolPolicy"] == "https-only"
    assert endpoint["OriginSSLProtocols"] == ["TLSv1.2"]


def test_default_behaviour_forwards_host_cookies_and_query_strings_and_caches_nothing(
    template: TemplateOf,
) -> None:
    default = _distribution(template, "dev")["DefaultCacheBehavior"]
    assert default["OriginRequestPolicyId"] == ALL_VIEWER_ORIGIN_REQUEST_POLICY
    assert default["CachePolicyId"] == CACHING_DISABLED_POLICY
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert set(default["AllowedMethods"]) >= {"POST", "PUT", "DELETE"}


def test_static_behaviours_cache_moodle_revisioned_urls_and_keep_the_host(template: TemplateOf) -> None:
    app = template("dev", "Application")
    behaviours = _distribution(template, "dev")["CacheBehaviors"]
    assert [b["PathPattern"] for b in behaviours] == list(STATIC_PATH_PATTERNS)
    assert all(b["ViewerProtocolPolicy"] == "redirect-to-https" for b in behaviours)
    app.has_resource_properties(
        "AWS::CloudFront::OriginRequestPolicy",
        {
            "OriginRequestPolicyConfig": Match.object_like(
                {"HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": ["Host"]}}
            )
        },
    )
    app.has_resource_properties(
        "AWS::CloudFront::CachePolicy",
        {
            "CachePolicyConfig": Match.object_like(
                {
                    "MaxTTL": 31536000,
                    "ParametersInCacheKeyAndForwardedToOrigin": Match.object_like(
                        {
                            "CookiesConfig": {"CookieBehavior": "none"},
                            "QueryStringsConfig": {"QueryStringBehavior": "all"},
                        }
                    ),
                }
            )
        },
    )


def test_security_headers_on_every_response(template: TemplateOf) -> None:
    template("dev", "Application").has_resource_properties(
        "AWS::CloudFront::ResponseHeadersPolicy",
        {
            "ResponseHeadersPolicyConfig": Match.object_like(
                {
                    "SecurityHeadersConfig": Match.object_like(
                        {
                            "StrictTransportSecurity": Match.object_like(
                                {"AccessControlMaxAgeSec": 31536000}
                            ),
                            "ContentTypeOptions": {"Override": True},
                            "FrameOptions": {"FrameOption": "SAMEORIGIN", "Override": True},
                        }
                    )
                }
            )
        },
    )
    policies = {b["ResponseHeadersPolicyId"]["Ref"] for b in _distribution(template, "dev")["CacheBehaviors"]}
    assert policies == {
        _distribution(template, "dev")["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]["Ref"]
    }


def test_custom_domain_gets_a_certificate_tls12_2021_and_alias_records(template: TemplateOf) -> None:
    config = _distribution(template, "prod-domain")
    assert config["Aliases"] == ["moodle.example.edu"]
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert config["ViewerCertificate"]["SslSupportMethod"] == "sni-only"
    template("prod-domain", "EdgeSecurity").has_resource_properties(
        "AWS::CertificateManager::Certificate",
        {"DomainName": "moodle.example.edu", "ValidationMethod": "DNS"},
    )
    records = template("prod-domain", "Application").find_resources("AWS::Route53::RecordSet")
    assert sorted(r["Properties"]["Type"] for r in records.values()) == ["A", "AAAA"]


def test_existing_certificates_are_used_as_given(template: TemplateOf) -> None:
    config = _distribution(template, "staging-certs")
    assert "11111111-1111-1111-1111-111111111111" in str(config["ViewerCertificate"]["AcmCertificateArn"])
    listener = template("staging-certs", "Application").find_resources(
        "AWS::ElasticLoadBalancingV2::Listener"
    )
    certificates = next(iter(listener.values()))["Properties"]["Certificates"]
    assert certificates == [
        {
            "CertificateArn": (
                "arn:aws:acm:eu-west-1:333333333333:certificate/22222222-2222-2222-2222-222222222222"
            )
        }
    ]
    template("staging-certs", "EdgeSecurity").resource_count_is("AWS::CertificateManager::Certificate", 0)


def test_web_acl_attached_and_standard_logging_on(template: TemplateOf) -> None:
    config = _distribution(template, "dev")
    assert "WebAcl" in str(config["WebACLId"]) or "ExportsReader" in str(config["WebACLId"])
    assert config["Logging"]["Prefix"] == "cloudfront/"
    assert config["HttpVersion"] == "http2and3"
