"""Fargate tasks that mount EFS can mount it: encryption in transit, IAM permission, platform, network."""

from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import (
    DeployRule,
    Json,
    StackTemplate,
    Violation,
    as_list,
    referenced_id,
    resolve,
    role_allows,
)

EFS_PORT = 2049
OLD_PLATFORMS = ("1.0.0", "1.1.0", "1.2.0", "1.3.0")
"""Fargate platform versions before 1.4.0 cannot mount EFS."""


def _volume_problems(template: StackTemplate, definition: dict[str, Json]) -> Iterator[str]:
    properties = definition.get("Properties", {})
    role = referenced_id(properties.get("TaskRoleArn"))
    for volume in properties.get("Volumes", []):
        efs = volume.get("EFSVolumeConfiguration")
        if not efs:
            continue
        name = volume.get("Name")
        authorization = efs.get("AuthorizationConfig") or {}
        uses_iam = authorization.get("IAM") == "ENABLED"
        if (uses_iam or authorization.get("AccessPointId")) and efs.get("TransitEncryption") != "ENABLED":
            yield f"volume {name}: IAM authorization or an access point needs TransitEncryption ENABLED"
        if uses_iam and not role_allows(template, role, "elasticfilesystem:ClientMount"):
            yield f"volume {name}: IAM authorization, but the task role may not elasticfilesystem:ClientMount"


def _service_problems(
    templates: Sequence[StackTemplate], template: StackTemplate, service: dict[str, Json], volumes: list[Json]
) -> Iterator[str]:
    properties = service.get("Properties", {})
    if properties.get("PlatformVersion") in OLD_PLATFORMS:
        yield f"platform {properties['PlatformVersion']} cannot mount EFS"
    network = properties.get("NetworkConfiguration", {}).get("AwsvpcConfiguration", {})
    task_subnets = [resolve(templates, template, subnet) for subnet in as_list(network.get("Subnets", []))]
    for volume in volumes:
        located = resolve(templates, template, volume["EFSVolumeConfiguration"]["FilesystemId"])
        if located is None:
            yield f"volume {volume.get('Name')}: its file system is not in any synthesized stack"
            continue
        owner, file_system = located
        mounted = [
            resolve(templates, owner, mount["Properties"].get("SubnetId"))
            for _, mount in owner.resources("AWS::EFS::MountTarget")
            if referenced_id(mount.get("Properties", {}).get("FileSystemId")) == file_system
        ]
        if not task_subnets or any(subnet is None or subnet not in mounted for subnet in task_subnets):
            yield f"volume {volume.get('Name')}: a subnet of the service has no mount target of {file_system}"
    groups = {referenced_id(group) for group in as_list(network.get("SecurityGroups", []))}
    admitted = set()
    for candidate in templates:
        for _, rule in candidate.resources("AWS::EC2::SecurityGroupIngress"):
            rule_properties = rule.get("Properties", {})
            if rule_properties.get("FromPort", 0) <= EFS_PORT <= rule_properties.get("ToPort", -1):
                source = resolve(templates, candidate, rule_properties.get("SourceSecurityGroupId"))
                if source is not None and source[0] is template:
                    admitted.add(source[1])
    if not groups & admitted:
        yield "no security group rule admits its tasks on NFS port 2049"


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """ECS mounts an EFS volume with IAM authorization or through an access point only with encryption in
    transit on (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/efs-volumes.html), and with
    IAM authorization the task role needs elasticfilesystem:ClientMount
    (https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html). Fargate mounts EFS from
    platform version 1.4.0 (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-linux-fargate.html).
    A task reaches the file system through a mount target in its Availability Zone, over NFS port 2049
    that the mount targets' security group admits (https://docs.aws.amazon.com/efs/latest/ug/accessing-fs.html);
    otherwise the task stops with a mount error and the service never becomes stable. So every service
    whose task mounts EFS runs on 1.4.0 or LATEST, only in subnets that have a mount target of that file
    system, and a rule admits its security group on port 2049."""
    for template in templates:
        definitions = dict(template.resources("AWS::ECS::TaskDefinition"))
        for logical_id, definition in definitions.items():
            for problem in _volume_problems(template, definition):
                yield Violation(template.path, logical_id, problem)
        for logical_id, service in template.resources("AWS::ECS::Service"):
            definition_id = referenced_id(service.get("Properties", {}).get("TaskDefinition")) or ""
            definition = definitions.get(definition_id, {})
            volumes = [
                v
                for v in definition.get("Properties", {}).get("Volumes", [])
                if v.get("EFSVolumeConfiguration")
            ]
            if volumes:
                for problem in _service_problems(templates, template, service, volumes):
                    yield Violation(template.path, logical_id, problem)


RULE = DeployRule("ecs-efs-volumes", "Fargate tasks can mount their EFS volumes", check)
