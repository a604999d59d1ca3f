"""ElastiCache Redis: Moodle's sessions and application cache (MUC)."""

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from compliance.acknowledgments import acknowledge
from moodle_infra.config import EnvironmentConfig
from moodle_infra.keys import secrets_key
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
            encryption_key=secrets_key(self),
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
        self._acknowledge(config)

    @property
    def endpoint_address(self) -> str:
        return self.replication_group.attr_primary_end_point_address

    def _acknowledge(self, config: EnvironmentConfig) -> None:
        if config.cache.replicas == 0:
            acknowledge(
                self.replication_group,
                "AwsSolutions-AEC4",
                f"{config.name} runs Redis without a replica by configuration (cache.replicas is 0) to "
                "save cost; losing the node logs users out and empties the cache, nothing more",
            )
        acknowledge(
            self.replication_group,
            "AwsSolutions-AEC5",
            "Only the Moodle tasks' security groups may reach Redis, inside private subnets, with TLS "
            "and an AUTH token; a non-default port would hide nothing from a client that can reach it",
        )
        acknowledge(
            self.replication_group,
            "NIST.800.53.R5-ElastiCacheRedisClusterAutomaticBackup",
            "Redis holds only sessions and Moodle's rebuildable application cache; restoring a days-old "
            "snapshot would only bring back expired sessions, so snapshots are kept for 7 days (none "
            "in disposable environments) rather than 15",
        )
        for rule in ("AwsSolutions-SMG4", "NIST.800.53.R5-SecretsManagerRotationEnabled"):
            acknowledge(
                self.auth_token,
                rule,
                "ElastiCache takes a new AUTH token only through its own ModifyReplicationGroup "
                "rotation, and ECS hands the token to tasks when they start; a Secrets Manager schedule "
                "would change the secret without changing Redis",
            )
