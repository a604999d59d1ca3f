"""The environment's VPC."""

from aws_cdk import Fn, Stack
from constructs import Construct

from moodle_infra.config import NetworkConfig
from moodle_infra.network import Network

AZ_COUNT = 2


class NetworkStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: NetworkConfig, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.vpc = Network(self, "Network", config=config).vpc

    @property
    def availability_zones(self) -> list[str]:
        """The region's first two AZs, resolved by CloudFormation (``Fn::GetAZs``) at deploy time.

        The default asks AWS, or cdk.context.json, at synth time; hard-coded names are rejected by
        cfn-lint (W3010) and may not exist in another account.
        """
        return [Fn.select(index, Fn.get_azs()) for index in range(AZ_COUNT)]
