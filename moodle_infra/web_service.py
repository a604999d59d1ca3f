"""The Fargate service of Moodle web tasks behind the ALB, with autoscaling."""

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from moodle_infra import capacity, image_contract
from moodle_infra.config import WebServiceConfig
from moodle_infra.exam_capacity import ExamCapacity
from moodle_infra.load_balancer import LoadBalancer
from moodle_infra.moodle_task import CONTAINER_NAME, MoodleRuntime, MoodleTaskDefinition, moodle_service
from moodle_infra.php_fpm import pool_for


class WebService(Construct):
    """Web tasks in the private subnets, rolled out with a circuit breaker that rolls back a release
    whose tasks never become healthy, scaled on CPU and on requests per task."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: ecs.ICluster,
        runtime: MoodleRuntime,
        config: WebServiceConfig,
        load_balancer: LoadBalancer,
    ) -> None:
        super().__init__(scope, construct_id)
        self.task = MoodleTaskDefinition(
            self,
            "Task",
            runtime=runtime,
            command=image_contract.COMMAND_WEB,
            cpu=config.cpu,
            memory_mib=config.memory_mib,
            serves_http=True,
        )
        # php-fpm's workers sized from this task's CPU and memory, not the image's one-size default.
        for name, value in pool_for(cpu=config.cpu, memory_mib=config.memory_mib).environment().items():
            self.task.container.add_environment(name, value)
        self.service = moodle_service(
            self,
            cluster=cluster,
            task=self.task,
            # Autoscaling owns the count: a DesiredCount here would reset it on every deploy. The scalable
            # target below raises the service to min_tasks as soon as it is registered.
            desired_count=None,
            min_healthy_percent=100,
            max_healthy_percent=200,
            health_check_grace_period=Duration.seconds(120),
        )
        self.target_group = load_balancer.listener.add_targets(
            "Moodle",
            port=image_contract.CONTAINER_PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[
                self.service.load_balancer_target(
                    container_name=CONTAINER_NAME, container_port=image_contract.CONTAINER_PORT
                )
            ],
            health_check=elbv2.HealthCheck(
                path=image_contract.HEALTH_CHECK_PATH,
                healthy_http_codes="200",
                interval=Duration.seconds(15),
                timeout=Duration.seconds(5),
                healthy_threshold_count=2,
                unhealthy_threshold_count=3,
            ),
            deregistration_delay=Duration.seconds(30),
        )
        self.service.connections.allow_from(
            load_balancer.security_group,
            ec2.Port.tcp(image_contract.CONTAINER_PORT),
            "ALB to Moodle web tasks",
        )

        scaling = self.service.auto_scale_task_count(
            min_capacity=config.min_tasks, max_capacity=config.max_tasks
        )
        scaling.scale_on_cpu_utilization(
            "Cpu",
            target_utilization_percent=config.cpu_target_percent or capacity.cpu_target_percent(config.cpu),
            scale_in_cooldown=Duration.minutes(5),
            scale_out_cooldown=Duration.minutes(1),
        )
        scaling.scale_on_request_count(
            "Requests",
            requests_per_target=config.requests_per_target or capacity.requests_per_target(config.cpu),
            target_group=self.target_group,
            scale_in_cooldown=Duration.minutes(5),
            scale_out_cooldown=Duration.minutes(1),
        )
        ExamCapacity(self, "ExamCapacity", scaling=scaling, config=config)
