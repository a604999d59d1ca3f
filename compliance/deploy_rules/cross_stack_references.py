"""Every cross-stack reference names a stack that exists, in a place CloudFormation can read it from,
and that is deployed before (and deleted after) the stack that reads it."""

from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import DeployRule, StackTemplate, Violation, stack_output_source, walk


def _imports(template: StackTemplate, templates: Sequence[StackTemplate]) -> Iterator[str]:
    exports = {
        (producer.path, output["Export"]["Name"])
        for producer in templates
        if (producer.account, producer.region) == (template.account, template.region)
        for output in (producer.body.get("Outputs") or {}).values()
        if isinstance((output.get("Export") or {}).get("Name"), str)
    }
    for node in walk(template.body.get("Resources")):
        name = node.get("Fn::ImportValue")
        if not isinstance(name, str):
            continue
        producers = [path for path, export in exports if export == name]
        if not producers:
            yield f"Fn::ImportValue {name!r}: no stack of {template.account}/{template.region} exports it"
        elif not set(producers) & set(template.depends_on):
            yield f"Fn::ImportValue {name!r}: the stack does not depend on its exporter {producers[0]}"


def _stack_outputs(template: StackTemplate, templates: Sequence[StackTemplate]) -> Iterator[str]:
    for node in walk(template.body.get("Resources")):
        reference = node.get("Fn::GetStackOutput")
        if not isinstance(reference, dict):
            continue
        described = f"Fn::GetStackOutput {reference.get('StackName')}.{reference.get('OutputName')}"
        if "RoleArn" in reference:
            yield f"{described}: reads another account's stack, which the pipeline cannot order"
            continue
        source = stack_output_source(templates, template, node)
        if source is None:
            yield f"{described}: no synthesized stack of account {template.account} has that output"
        elif source[0].path not in template.depends_on:
            yield f"{described}: the stack does not depend on {source[0].path}, so nothing orders them"


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """Fn::ImportValue reads only exports of the same account and Region
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-importvalue.html);
    Fn::GetStackOutput reads any output, in another Region too, but only resolves when the stack
    exists, and is a weak reference: deleting the producer first is not refused
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-getstackoutput.html).
    So every reference must name a synthesized stack of the same account with that output, and the
    reading stack must depend on it, which makes CDK Pipelines and ``cdk deploy`` create the producer
    first and ``cdk destroy`` delete it last (the teardown order)."""
    for template in templates:
        for problem in [*_imports(template, templates), *_stack_outputs(template, templates)]:
            yield Violation(template.path, "-", problem)


RULE = DeployRule(
    "cross-stack-references", "Cross-stack references resolve, and order deploys and teardowns", check
)
