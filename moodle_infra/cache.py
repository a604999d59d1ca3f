"""ElastiCache Redis: Moodle's sessions and application cache (MUC)."""

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from moodle_infra.config import EnvironmentConfig
from moodle_infra.removal import removal_policy

ENGINE_VERSION = "7.1"
"""Redis OSS 7.1, pinned: Moodle's session handler and cache store need no cluster mode."""

CACHE_PORT = 6379


class Cache(Construct):
    """A Redis replication group with TLS, encryption at rest and an AUTH token from Secrets Manager.

    With replicas, the primary and its replicas spread over both AZs and fail over automatically.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, config: EnvironmentConfig
    ) -> None:
        super().__init__(scope, construct_id)
        settings = config.cache
        highly_available = settings.replicas > 0

        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, description="Moodle Redis", allow_all_outbound=False
        )
        self.auth_token = secretsmanager.Secret(
            self,
            "AuthToken",
            description="AUTH token of Moodle's Redis",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
        )
        subnet_group = elasticache.CfnSubnetGroup(
            self,
            "Subnets",
            description="Moodle Redis private subnets",
            subnet_ids=vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnet_ids,
        )

        self.replication_group = elasticache.CfnReplicationGroup(
            self,
            "ReplicationGroup",
            replication_group_description="Moodle sessions and application cache",
            engine="redis",
            engine_version=ENGINE_VERSION,
            cache_node_type=settings.node_type,
            num_node_groups=1,
            replicas_per_node_group=settings.replicas,
            automatic_failover_enabled=highly_available,
            multi_az_enabled=highly_available,
            cache_subnet_group_name=subnet_group.ref,
            security_group_ids=[self.security_group.security_group_id],
            port=CACHE_PORT,
            transit_encryption_enabled=True,
            at_rest_encryption_enabled=True,
            auth_token=self.auth_token.secret_value.unsafe_unwrap(),
            auto_minor_version_upgrade=True,
            snapshot_retention_limit=7 if config.removal_policy != "destroy" else 0,
            preferred_maintenance_window="sun:04:30-sun:05:30",
        )
        self.replication_group.apply_removal_policy(
            removal_policy(config.removal_policy, supports_snapshot=True)
        )
        self.port = CACHE_PORT
        self.connections = ec2.Connections(
            security_groups=[self.security_group], default_port=ec2.Port.tcp(CACHE_PORT)
        )

    @property
    def endpoint_address(self) -> str:
        return self.replication_group.attr_primary_end_point_address
