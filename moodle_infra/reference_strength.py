"""Strong cross-stack references for everything an environment's same-Region stacks produce.

cdk.json's ``@aws-cdk/core:defaultCrossStackReferences`` is ``weak`` (CDK's recommended default):
a consumer reads the producer's output with ``Fn::GetStackOutput`` when *it* deploys. If the producer
replaces a referenced resource (a security group whose description changed, a subnet), its output
changes, but a consumer whose template is unchanged is not updated and keeps the old value: nothing
fails, the consumer just points at a deleted resource. A strong reference (an export and
``Fn::ImportValue``) makes CloudFormation refuse to change an export that another stack imports
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-exports.html): the
producer's deploy fails loudly and rolls back instead. Stateful resources and security groups must
never be replaced under a running consumer, so every resource of the Network, Audit and Data stacks is
a strong producer. The us-east-1 edge stack stays weak (a strong cross-Region reference needs CDK's
custom resources); the deploy rule ``weak-references`` says why that one is safe.
"""

from aws_cdk import CfnResource, CrossStackReferences, ReferenceStrength, Stack


def strong_producers(*stacks: Stack) -> None:
    """Every reference to a resource of ``stacks`` from another stack becomes an export and an import."""
    for stack in stacks:
        for node in stack.node.find_all():
            if isinstance(node, CfnResource):
                CrossStackReferences.of(node).produce(ReferenceStrength.STRONG)
