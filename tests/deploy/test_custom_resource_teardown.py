"""Rule custom-resource-teardown: handlers keep their permissions until their custom resource is gone."""

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.custom_resource_teardown import RULE, handler_lambdas
from tests.deploy.conftest import broken, find

APPLICATION = "MoodlePipeline/Prod/Application"


def test_install_or_upgrade_reaches_its_user_functions(shipped_templates: list[StackTemplate]) -> None:
    application = find(shipped_templates, APPLICATION)
    (install,) = [i for i, r in application.resources("Custom::MoodleInstallOrUpgrade")]
    functions = handler_lambdas(application, install)
    assert any("Start" in f for f in functions) and any("Check" in f for f in functions)
    assert not RULE.violations(shipped_templates)


def test_catches_a_custom_resource_that_outlives_its_handlers_policy(
    shipped_templates: list[StackTemplate],
) -> None:
    """CDK's AwsCustomResource depends on its policy explicitly; without that DependsOn a teardown may
    delete the policy first."""

    def unordered(body: dict) -> None:
        for resource in list(body["Resources"].values()):
            if resource["Type"] == "Custom::AWS":
                resource.pop("DependsOn")
                function = body["Resources"][resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]]
                role = function["Properties"]["Role"]["Fn::GetAtt"][0]
                body["Resources"]["PlantedPolicy"] = {
                    "Type": "AWS::IAM::Policy",
                    "Properties": {"PolicyName": "planted", "Roles": [{"Ref": role}], "PolicyDocument": {}},
                }

    violations = RULE.violations([broken(find(shipped_templates, APPLICATION), unordered)])
    assert {v.message.split(" (")[0] for v in violations} == {
        "does not depend on LoadBalancerCloudFrontPrefixListCustomResourcePolicy8C29FAFD",
        "does not depend on PlantedPolicy",
    }
