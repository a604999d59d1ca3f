"""WAFv2 web ACL in front of CloudFront (so it lives in us-east-1, in the stage's edge stack)."""

from dataclasses import dataclass

from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from moodle_infra.keys import logs_key
from moodle_infra.physical_names import name_for_this_stack
from moodle_infra.retention import log_retention

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesPHPRuleSet",
)
"""Evaluated in this order, after the rate limit."""

CORE_RULE_SET_LABEL = "awswaf:managed:aws:core-rule-set:"
SQL_RULE_SET_LABEL = "awswaf:managed:aws:sql-database:"

COUNT_ONLY_RULES = {
    "AWSManagedRulesCommonRuleSet": (
        "SizeRestrictions_BODY",
        "SizeRestrictions_QUERYSTRING",
        "SizeRestrictions_URIPATH",
        "RestrictedExtensions_URIPATH",
        "CrossSiteScripting_BODY",
    ),
    "AWSManagedRulesSQLiRuleSet": ("SQLi_BODY", "SQLiExtendedPatterns_BODY"),
}
"""Managed rules that only count (and label) a request; SCOPED_BLOCKS below still block on their labels
where Moodle never legitimately sends what they match. Evidence, read in the Moodle 5.1.6 tree and the
rule group documentation, not measured on a live session:

- SizeRestrictions_BODY (body over 8 KB) would stop every upload, assignment submission and restore.
- SizeRestrictions_QUERYSTRING (over 2,048 bytes): Moodle's own URLs stay short (its YUI loader splits
  combo URLs at 1,024 characters, lib/yuilib/3.18.1/yui/yui.js MAX_URL_LENGTH; forms POST), but sign-on
  callbacks carry other parties' tokens in the query string: the OAuth 2 code and state
  (admin/oauth2callback.php, which forwards the code to auth/oauth2/login.php as oauth2code, and
  repository/repository_callback.php), the LTI 1.3 login hint and message hint (enrol/lti/login.php,
  mod/lti/auth.php). Identity providers do not bound them: Microsoft Entra codes alone run to 1-2 KB.
- SizeRestrictions_URIPATH (over 1,024 bytes): files are served with their path and name in the URL
  path (pluginfile.php/<context>/<component>/<area>/<item>/<path>/<name>); files.filepath and
  files.filename are 255 characters each (lib/db/install.xml), and a non-Latin name percent-encodes to
  up to 9 bytes a character, so a 120-character Chinese file name alone passes 1 KB.
- RestrictedExtensions_URIPATH (.log, .ini and other system file extensions in the path): the same
  file URLs end in the name a teacher gave the file, and computing courses share config.ini or
  server.log; nginx itself refuses Moodle's own non-PHP files (image/nginx/nginx.conf).
- CrossSiteScripting_BODY: editing is posting HTML. TinyMCE's autosave sends the editor's whole content
  to lib/ajax/service.php every few seconds (tiny_autosave_update_session, drafttext), and its media
  plugin inserts <video>/<audio> with <source> and <track> elements; teachers paste <iframe> embeds of
  videos. Moodle cleans HTML on output (HTMLPurifier in format_text), which is where XSS is stopped.
- SQLi_BODY and SQLiExtendedPatterns_BODY: forum posts and quiz answers of database courses contain
  SQL; Moodle's database layer binds every parameter. SQL injection in query strings
  (SQLi_QUERYARGUMENTS) still blocks, and the smoke program proves it after each deploy
  (smoke/checks.py, waf-blocks-sqli).
"""


@dataclass(frozen=True, kw_only=True)
class ScopedBlock:
    """Block what counted managed rules labelled (any of ``labels``), only under the given URI path
    prefixes (``only_under``) or everywhere but under them."""

    name: str
    labels: tuple[str, ...]
    path_prefixes: tuple[str, ...]
    only_under: bool


SIGN_ON_CALLBACKS = (
    "/admin/oauth2callback.php",
    "/auth/oauth2/login.php",
    "/repository/repository_callback.php",
    "/enrol/lti/login.php",
    "/mod/lti/auth.php",
)
"""Where identity providers and LTI platforms put their tokens into the query string."""

FILE_SERVING = ("/pluginfile.php/", "/webservice/pluginfile.php/", "/tokenpluginfile.php/", "/draftfile.php/")
"""Moodle's file-serving scripts, which carry the file's path and name in the URL path."""

SIGN_IN_FORMS = ("/login/",)
"""Anonymous forms (sign-in, sign-up, password reset) that never carry HTML or SQL."""

SCOPED_BLOCKS = (
    ScopedBlock(
        name="LongQueryStringOutsideSignOn",
        labels=(CORE_RULE_SET_LABEL + "SizeRestrictions_QueryString",),
        path_prefixes=SIGN_ON_CALLBACKS,
        only_under=False,
    ),
    ScopedBlock(
        name="LongUriPathOutsideFiles",
        labels=(CORE_RULE_SET_LABEL + "SizeRestrictions_URIPath",),
        path_prefixes=FILE_SERVING,
        only_under=False,
    ),
    ScopedBlock(
        name="RestrictedExtensionOutsideFiles",
        labels=(CORE_RULE_SET_LABEL + "RestrictedExtensions_URIPath",),
        path_prefixes=FILE_SERVING,
        only_under=False,
    ),
    ScopedBlock(
        name="CrossSiteScriptingBodyOnSignIn",
        labels=(CORE_RULE_SET_LABEL + "CrossSiteScripting_Body",),
        path_prefixes=SIGN_IN_FORMS,
        only_under=True,
    ),
    ScopedBlock(
        name="SqlInjectionBodyOnSignIn",
        labels=(SQL_RULE_SET_LABEL + "SQLi_Body", SQL_RULE_SET_LABEL + "SQLiExtendedPatterns_Body"),
        path_prefixes=SIGN_IN_FORMS,
        only_under=True,
    ),
)
"""Evaluated after the managed groups, whose labels they read."""

WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"
"""WAF delivers logs only to log groups whose name starts with this."""

RATE_LIMIT_PER_5_MINUTES = 3000
"""Requests per client IP per five minutes. Campuses send many users from one NAT address, so this
only stops floods, not busy classrooms."""


class WebAcl(Construct):
    """Managed rule groups for common attacks, SQL injection and PHP, IP reputation, a rate limit;
    every request logged to CloudWatch Logs."""

    def __init__(self, scope: Construct, construct_id: str, *, name: str, log_retention_days: int) -> None:
        super().__init__(scope, construct_id)
        rules = [self._rate_limit_rule()] + [
            self._managed_rule(group, priority) for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1)
        ]
        rules += [
            _scoped_block(block, priority)
            for priority, block in enumerate(SCOPED_BLOCKS, start=len(MANAGED_RULE_GROUPS) + 1)
        ]
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="CLOUDFRONT",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(name),
            rules=rules,
        )
        log_group = logs.LogGroup(
            self,
            "Logs",
            # WAF requires the prefix; the stack ID suffix lets a re-created stack create it again
            # while the retained group of the previous one still holds its logs.
            log_group_name=name_for_this_stack(f"{WAF_LOG_GROUP_PREFIX}{name}", max_length=512),
            retention=log_retention(log_retention_days),
            encryption_key=logs_key(self),
        )
        wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.web_acl.attr_arn,
            log_destination_configs=[log_group.log_group_arn],
        )

    @staticmethod
    def _rate_limit_rule() -> wafv2.CfnWebACL.RuleProperty:
        return wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerIp",
            priority=0,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=RATE_LIMIT_PER_5_MINUTES, aggregate_key_type="IP"
                )
            ),
            visibility_config=_visibility("RateLimitPerIp"),
        )

    @staticmethod
    def _managed_rule(group: str, priority: int) -> wafv2.CfnWebACL.RuleProperty:
        overrides = [
            wafv2.CfnWebACL.RuleActionOverrideProperty(
                name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
            )
            for rule in COUNT_ONLY_RULES.get(group, ())
        ]
        return wafv2.CfnWebACL.RuleProperty(
            name=group,
            priority=priority,
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name=group, rule_action_overrides=overrides or None
                )
            ),
            visibility_config=_visibility(group),
        )


def _scoped_block(block: ScopedBlock, priority: int) -> wafv2.CfnWebACL.RuleProperty:
    labelled = _any_of(
        [
            wafv2.CfnWebACL.StatementProperty(
                label_match_statement=wafv2.CfnWebACL.LabelMatchStatementProperty(scope="LABEL", key=label)
            )
            for label in block.labels
        ]
    )
    prefixes = [
        wafv2.CfnWebACL.StatementProperty(
            byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
                positional_constraint="STARTS_WITH",
                search_string=prefix,
                # /pluginfile.php/../x.ini must not pass for a file URL: compare the path as nginx sees it.
                text_transformations=[
                    wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NORMALIZE_PATH")
                ],
            )
        )
        for prefix in block.path_prefixes
    ]
    under = _any_of(prefixes)
    where = (
        under
        if block.only_under
        else wafv2.CfnWebACL.StatementProperty(
            not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=under)
        )
    )
    return wafv2.CfnWebACL.RuleProperty(
        name=block.name,
        priority=priority,
        action=wafv2.CfnWebACL.RuleActionProperty(block={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            and_statement=wafv2.CfnWebACL.AndStatementProperty(statements=[labelled, where])
        ),
        visibility_config=_visibility(block.name),
    )


def _any_of(statements: list[wafv2.CfnWebACL.StatementProperty]) -> wafv2.CfnWebACL.StatementProperty:
    """One statement, or an OR of several (WAF refuses an OR of fewer than two)."""
    if len(statements) == 1:
        return statements[0]
    return wafv2.CfnWebACL.StatementProperty(
        or_statement=wafv2.CfnWebACL.OrStatementProperty(statements=statements)
    )


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )
