"""CloudFront in front of the internal ALB: the only way into the site."""

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from aws_cdk import aws_s3 as s3
from constructs import Construct

from compliance.acknowledgments import acknowledge, skip_checkov
from moodle_infra import timeouts
from moodle_infra.load_balancer import LoadBalancer

STATIC_PATH_PATTERNS = (
    "/theme/styles.php/*",
    "/theme/image.php/*",
    "/theme/font.php/*",
    "/theme/yui_combo.php*",
    "/theme/yui_image.php*",
    "/theme/jquery.php/*",
    "/theme/javascript.php/*",
    "/lib/javascript.php/*",
    "/lib/requirejs.php/*",
)
"""Moodle's static files, served through PHP under URLs that carry a revision number, so a new
revision is a new URL and caching them at the edge for as long as Moodle says is safe."""


class Edge(Construct):
    """A distribution with a VPC origin to the ALB: HTTPS for viewers, the viewer's Host header
    passed to Moodle (which redirects any other host to wwwroot), nothing cached but static files."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        load_balancer: LoadBalancer,
        web_acl_arn: str,
        access_logs: s3.IBucket,
        domain_name: str | None,
        certificate: acm.ICertificate | None,
        hosted_zone: route53.IHostedZone | None,
    ) -> None:
        super().__init__(scope, construct_id)
        origin = origins.VpcOrigin.with_application_load_balancer(
            load_balancer.load_balancer,
            protocol_policy=(
                cloudfront.OriginProtocolPolicy.HTTPS_ONLY
                if load_balancer.port == 443
                else cloudfront.OriginProtocolPolicy.HTTP_ONLY
            ),
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            read_timeout=Duration.seconds(timeouts.CLOUDFRONT_ORIGIN_READ_TIMEOUT),
            keepalive_timeout=Duration.seconds(timeouts.CLOUDFRONT_ORIGIN_KEEPALIVE_TIMEOUT),
        )
        security_headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="Moodle security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365), include_subdomains=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.SAMEORIGIN, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
                xss_protection=cloudfront.ResponseHeadersXSSProtection(
                    protection=True, mode_block=True, override=True
                ),
            ),
        )
        static_behavior = cloudfront.BehaviorOptions(
            origin=origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
            cache_policy=cloudfront.CachePolicy(
                self,
                "StaticCache",
                comment="Moodle revisioned static files: cached as long as Moodle's Cache-Control says",
                default_ttl=Duration.days(1),
                min_ttl=Duration.seconds(0),
                max_ttl=Duration.days(365),
                query_string_behavior=cloudfront.CacheQueryStringBehavior.all(),
                header_behavior=cloudfront.CacheHeaderBehavior.none(),
                cookie_behavior=cloudfront.CacheCookieBehavior.none(),
                enable_accept_encoding_gzip=True,
                enable_accept_encoding_brotli=True,
            ),
            origin_request_policy=cloudfront.OriginRequestPolicy(
                self,
                "StaticOriginRequest",
                comment="Moodle static files: the viewer's Host (Moodle checks it) and the query string",
                header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list("Host"),
                query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.all(),
                cookie_behavior=cloudfront.OriginRequestCookieBehavior.none(),
            ),
            response_headers_policy=security_headers,
            compress=True,
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Moodle",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER,
                response_headers_policy=security_headers,
                compress=True,
            ),
            additional_behaviors=dict.fromkeys(STATIC_PATH_PATTERNS, static_behavior),
            # Moodle's maintenance page during an upgrade (docs/UPGRADES.md) is a 503. CloudFront ignores
            # its no-store for a 503 and would cache it for 10 s: pass it through, cached for 0 s.
            error_responses=[cloudfront.ErrorResponse(http_status=503, ttl=Duration.seconds(0))],
            web_acl_id=web_acl_arn,
            domain_names=[domain_name] if domain_name else None,
            certificate=certificate,
            # Only a custom certificate can set the viewer TLS floor (CloudFront's default one cannot).
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate else None,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_ipv6=True,
            enable_logging=True,
            log_bucket=access_logs,
            log_file_prefix="cloudfront/",
        )
        self.domain_name = domain_name or self.distribution.distribution_domain_name
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "Schools and training companies teach students wherever they are; a geo restriction would "
            "lock out distance learners, and the WAF web ACL filters abusive traffic instead",
        )
        if certificate is None:
            reason = (
                "Without a custom domain the site is served on CloudFront's own domain with CloudFront's "
                "default certificate, whose TLS floor cannot be raised; with a custom domain the "
                "distribution requires TLS 1.2 (TLSv1.2_2021)"
            )
            acknowledge(self.distribution, "AwsSolutions-CFR4", reason)
            skip_checkov(self.distribution, "CKV_AWS_174", reason)
        if hosted_zone and domain_name:
            target = route53.RecordTarget.from_alias(targets.CloudFrontTarget(self.distribution))
            route53.ARecord(self, "AliasIPv4", zone=hosted_zone, record_name=domain_name, target=target)
            route53.AaaaRecord(self, "AliasIPv6", zone=hosted_zone, record_name=domain_name, target=target)
