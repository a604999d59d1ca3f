"""Stage entry conditions are ones CodePipeline accepts, and the variables they check exist."""

import re
from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import DeployRule, Json, StackTemplate, Violation

RESULTS = ("FAIL", "SKIP")
SKIP_RULE_PROVIDERS = ("LambdaInvoke", "VariableCheck")
OPERATORS = ("EQ", "CONTAINS", "MATCHES", "NE")
VARIABLE = re.compile(r"#\{([\w-]+)\.[\w-]+\}")


def _problems(pipeline: dict[str, Json], stage: dict[str, Json], namespaces: set[str]) -> Iterator[str]:
    conditions = stage["BeforeEntry"].get("Conditions") or []
    if pipeline.get("PipelineType") != "V2":
        yield "has stage conditions, which only V2 pipelines support"
    if len(conditions) != 1:
        yield f"has {len(conditions)} entry conditions; CodePipeline takes exactly 1"
    for condition in conditions:
        result = condition.get("Result")
        if result not in RESULTS:
            yield f"entry condition result {result!r} is none of {', '.join(RESULTS)}"
        for rule in condition.get("Rules") or []:
            name = rule.get("Name")
            provider = (rule.get("RuleTypeId") or {}).get("Provider")
            if result == "SKIP" and provider not in SKIP_RULE_PROVIDERS:
                yield f"rule {name!r} ({provider}) cannot skip a stage: only {SKIP_RULE_PROVIDERS} can"
            if provider != "VariableCheck":
                continue
            configuration = rule.get("Configuration") or {}
            if configuration.get("Operator") not in OPERATORS:
                yield f"rule {name!r}: Operator {configuration.get('Operator')!r} is none of {OPERATORS}"
            if "Value" not in configuration:
                yield f"rule {name!r} has no Value"
            found = VARIABLE.fullmatch(str(configuration.get("Variable", "")))
            if not found or found[1] not in namespaces | {"codepipeline"}:
                yield (
                    f"rule {name!r} checks {configuration.get('Variable')!r}, which no action of the "
                    "pipeline exports (no such namespace)"
                )


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """CodePipeline takes stage conditions on V2 pipelines only, exactly one entry condition per stage with
    a FAIL or SKIP result, and a SKIP only from LambdaInvoke or VariableCheck rules
    (https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-conditions.html,
    https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_BeforeEntryConditions.html); a
    VariableCheck rule needs an Operator (EQ, CONTAINS, MATCHES, NE), a Value and a variable of a namespace
    some action declares (https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-VariableCheck.html)."""
    for template in templates:
        for pipeline_id, pipeline in template.resources("AWS::CodePipeline::Pipeline"):
            properties = pipeline.get("Properties", {})
            stages = properties.get("Stages") or []
            namespaces = {
                action["Namespace"]
                for stage in stages
                for action in stage.get("Actions", [])
                if "Namespace" in action
            }
            for stage in stages:
                if "BeforeEntry" in stage:
                    for problem in _problems(properties, stage, namespaces):
                        yield Violation(template.path, pipeline_id, f"stage {stage.get('Name')}: {problem}")


RULE = DeployRule(
    "stage-conditions", "Stage entry conditions are valid and check variables that exist", check
)
