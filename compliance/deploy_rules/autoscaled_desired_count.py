"""An ECS service that Application Auto Scaling manages does not also set its task count."""

from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import DeployRule, StackTemplate, Violation, as_list, referenced_id


def scaled_services(template: StackTemplate) -> Iterator[tuple[str, str]]:
    """``(scalable target, ECS service)`` logical IDs: the service named in the target's ResourceId
    (``service/<cluster>/<service name>``)."""
    for target_id, target in template.resources("AWS::ApplicationAutoScaling::ScalableTarget"):
        properties = target.get("Properties", {})
        if properties.get("ServiceNamespace") != "ecs":
            continue
        resource_id = properties.get("ResourceId")
        parts = resource_id.get("Fn::Join", ["", []])[1] if isinstance(resource_id, dict) else []
        for part in as_list(parts):
            service = referenced_id(part)
            if service and (template.resource(service) or {}).get("Type") == "AWS::ECS::Service":
                yield target_id, service


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """CloudFormation sends a template's DesiredCount with every update of the service, so a deploy
    during a busy hour resets what autoscaling scaled out to, back to the template's figure. Without
    DesiredCount, ECS starts one task on create and leaves the count alone on update
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ecs-service.html#cfn-ecs-service-desiredcount),
    and registering the scalable target moves the count into its [MinCapacity, MaxCapacity] range at
    once (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html),
    so the first deploy still starts the minimum number of tasks."""
    for template in templates:
        for target, service in scaled_services(template):
            properties = (template.resource(service) or {}).get("Properties", {})
            if "DesiredCount" in properties:
                yield Violation(
                    template.path,
                    service,
                    f"sets DesiredCount {properties['DesiredCount']} while {target} scales it: every "
                    "deploy resets the scaled-out count",
                )


RULE = DeployRule("autoscaled-desired-count", "Autoscaled ECS services leave the count to autoscaling", check)
