"""Rule ecs-efs-volumes: every Moodle task can mount moodledata."""

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.ecs_efs_volumes import RULE
from tests.deploy.conftest import broken, find

APPLICATION = "MoodlePipeline/Prod/Application"


def test_all_three_task_definitions_mount_efs(shipped_templates: list[StackTemplate]) -> None:
    application = find(shipped_templates, APPLICATION)
    mounting = [
        logical_id
        for logical_id, definition in application.resources("AWS::ECS::TaskDefinition")
        if any("EFSVolumeConfiguration" in v for v in definition["Properties"].get("Volumes", []))
    ]
    assert len(mounting) == 3, "web, cron and install-or-upgrade"
    assert not RULE.violations(shipped_templates)


def test_catches_plain_nfs_no_mount_permission_old_platform_and_no_nfs_rule(
    shipped_templates: list[StackTemplate],
) -> None:
    def unmountable(body: dict) -> None:
        for logical_id, resource in list(body["Resources"].items()):
            if resource["Type"] == "AWS::ECS::TaskDefinition":
                resource["Properties"]["Volumes"][0]["EFSVolumeConfiguration"]["TransitEncryption"] = (
                    "DISABLED"
                )
            if resource["Type"] == "AWS::IAM::ManagedPolicy" and "TaskTaskRole" in logical_id:
                resource["Properties"]["PolicyDocument"]["Statement"] = []
            if resource["Type"] == "AWS::ECS::Service":
                resource["Properties"]["PlatformVersion"] = "1.3.0"
            if (
                resource["Type"] == "AWS::EC2::SecurityGroupIngress"
                and resource["Properties"].get("FromPort") == 2049
            ):
                del body["Resources"][logical_id]

    application = broken(find(shipped_templates, APPLICATION), unmountable)
    others = [t for t in shipped_templates if t.path != APPLICATION]
    messages = [v.message for v in RULE.violations([*others, application])]
    assert sum("needs TransitEncryption ENABLED" in m for m in messages) == 3
    assert sum("may not elasticfilesystem:ClientMount" in m for m in messages) == 3
    assert sum("platform 1.3.0 cannot mount EFS" in m for m in messages) == 2
    assert sum("no security group rule admits its tasks on NFS port 2049" in m for m in messages) == 2


def test_catches_a_service_in_a_subnet_without_mount_target(shipped_templates: list[StackTemplate]) -> None:
    """moodledata with a mount target in one private subnet only: tasks in the other AZ cannot mount."""

    def one_mount_target(body: dict) -> None:
        mounts = [i for i, r in body["Resources"].items() if r["Type"] == "AWS::EFS::MountTarget"]
        assert len(mounts) == 2
        del body["Resources"][mounts[1]]

    data = find(shipped_templates, "MoodlePipeline/Prod/Data")
    half = broken(data, one_mount_target)
    others = [t for t in shipped_templates if t.path != data.path]
    violations = RULE.violations([*others, half])
    assert {(v.stack, v.message) for v in violations} == {
        (APPLICATION, "volume moodledata: a subnet of the service has no mount target of FileSystem0A147049")
    }
    assert len(violations) == 2, "web and cron"
