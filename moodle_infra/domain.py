"""Certificates and DNS for an optional custom domain."""

from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_route53 as route53
from constructs import Construct

from moodle_infra.config import CustomDomain


def hosted_zone(scope: Construct, domain: CustomDomain | None) -> route53.IHostedZone | None:
    """Imported by its ID and name, never looked up: synthesis must not call AWS."""
    if domain is None or domain.hosted_zone_id is None or domain.hosted_zone_name is None:
        return None
    return route53.HostedZone.from_hosted_zone_attributes(
        scope, "HostedZone", hosted_zone_id=domain.hosted_zone_id, zone_name=domain.hosted_zone_name
    )


def certificate(
    scope: Construct,
    construct_id: str,
    domain: CustomDomain | None,
    *,
    zone: route53.IHostedZone | None,
    existing_arn: str | None,
) -> acm.ICertificate | None:
    """A DNS-validated certificate in the scope's region when a hosted zone is configured, else the
    configured existing one, else none (no custom domain)."""
    if domain is None:
        return None
    if zone is not None:
        return acm.Certificate(
            scope,
            construct_id,
            domain_name=domain.domain_name,
            validation=acm.CertificateValidation.from_dns(zone),
        )
    assert existing_arn is not None, "validated configuration: certificate ARNs come with a custom domain"
    return acm.Certificate.from_certificate_arn(scope, construct_id, existing_arn)
