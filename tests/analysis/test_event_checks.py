"""Checks on event keys and context attributes: codes, ranges, messages, fixes — and silence."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlerlens.analysis.events.checks import check_events
from handlerlens.analysis.events.flow import HandlerContext
from handlerlens.core.problems import Position, Problem, Severity, Span

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "completion"
H = "def handler(event, context):\n    "


def _check(source: str, platform: str, trigger: str | None = None) -> list[Problem]:
    return check_events("main.py", source, [HandlerContext("handler", platform, trigger)])


def test_misspelt_key_gets_did_you_mean_with_a_fix() -> None:
    (problem,) = _check(H + "m = event['httpMetod']", "yandex")
    assert problem.code == "event-key-unknown"
    assert problem.severity == Severity.WARNING
    assert problem.span == Span(Position(1, 14), Position(1, 25))
    assert "has the key 'httpMetod'" in problem.message
    assert "KeyError" in problem.message
    assert problem.message.endswith("Did you mean 'httpMethod'?")
    (fix,) = problem.fixes
    assert fix.new_text == "'httpMethod'" and fix.span == problem.span and fix.path == "main.py"


def test_known_closed_shape_flags_any_unknown_key() -> None:
    problems = _check(H + "a = event['name']\n    b = event.get('httpMetod')", "yandex", "http")
    assert [p.code for p in problems] == ["event-key-unknown", "event-key-unknown"]
    assert problems[0].message == (
        "The Yandex Cloud Functions HTTP invocation (functions.yandexcloud.net) event has no key "
        "'name'; reading it raises KeyError at run time."
    )
    assert "`.get('httpMetod')` always returns None" in problems[1].message
    assert problems[1].message.endswith("Did you mean 'httpMethod'?")


def test_a_key_tested_with_in_is_expected_to_be_missing() -> None:
    source = (
        H
        + "if 'name' in event:\n        print(event['name'])\n"
        + "    if 'token' not in event['headers']:\n        return event['headers'].get('token')\n"
        + "    return event['nmae']"
    )
    # Only the key nobody tested is flagged; a tested key on another value still would be.
    problems = _check(source, "yandex", "http")
    assert [p.message.split("'")[1] for p in problems] == ["nmae"]
    assert _check(
        H + "if 'name' in context.__dict__:\n        pass\n    event['name']", "yandex", "http"
    )


def test_title_that_already_says_event_is_not_doubled() -> None:
    (problem,) = _check(H + "job = event['job']", "aws", "schedule")
    assert problem.message.startswith(
        "The AWS Lambda EventBridge scheduled event has no key 'job';"
    )


def test_nested_closed_dicts_are_checked_through_aliases_and_loops() -> None:
    source = (
        H + "rc = event['requestContext']\n    ip = rc['identity']['sourceIP']\n"
        "    for r in event['Records']:\n        print(r['s3']['bukket'])\n"
    )
    problems = _check(source, "aws", "s3")
    messages = [p.message for p in problems]
    assert any("'requestContext'" in m for m in messages)
    bucket = next(p for p in problems if "bukket" in p.message)
    assert bucket.message.startswith("`Records[].s3` of the AWS Lambda Amazon S3 notification")
    assert bucket.message.endswith("Did you mean 'bucket'?")
    assert bucket.span == Span(Position(4, 22), Position(4, 30))
    yandex = _check(H + "ip = event['requestContext']['identity']['sourceIP']", "yandex", "http")
    assert len(yandex) == 1 and yandex[0].message.endswith("Did you mean 'sourceIp'?")


@pytest.mark.parametrize(
    ("platform", "trigger", "body"),
    [
        # A handler invoked directly gets any JSON: plain unknown keys are not flagged.
        ("yandex", None, "name = event['name']"),
        ("aws", None, "key1 = event['key1']"),
        # Open maps take any key.
        ("yandex", "http", "v = event['headers']['X-My-Header']"),
        ("yandex", "http", "v = event['queryStringParameters']['page']"),
        ("aws", "api-gateway-rest", "v = event['requestContext']['authorizer']"),
        ("yandex", "data-streams", "v = event['messages'][0]['anything']"),
        # A key some trigger has is never flagged while the trigger is guessed.
        ("aws", None, "v = event['Records']"),
        ("yandex", None, "v = event['messages']"),
        # Raw invocations have no envelope.
        ("yandex", "raw", "v = event['anything']"),
        # Known keys.
        ("aws", "schedule", "v = event['detail-type'], event['version']"),
        ("yandex", "http", "v = event['path']"),
    ],
)
def test_never_noisy(platform: str, trigger: str | None, body: str) -> None:
    assert _check(H + body, platform, trigger) == []


def test_context_attribute_from_the_other_platform() -> None:
    (aws,) = _check(H + "left = context.deadline_ms", "aws")
    assert aws.code == "context-attribute-unknown"
    assert aws.span == Span(Position(1, 19), Position(1, 30))
    assert aws.message.startswith(
        "The AWS Lambda context has no attribute 'deadline_ms'; reading it raises AttributeError"
    )
    assert "get_remaining_time_in_millis()" in aws.message
    (yandex,) = _check(H + "who = context.identity", "yandex")
    assert yandex.code == "context-attribute-unknown"
    assert "exists on AWS Lambda only" in yandex.message


def test_context_typo_gets_a_fix_and_private_names_pass() -> None:
    (problem,) = _check(H + "x = context.function_nme", "aws")
    assert problem.message.endswith("Did you mean 'function_name'?")
    assert problem.fixes[0].new_text == "function_name"
    assert _check(H + "x = context._epoch_deadline_time_in_ms", "aws") == []
    assert _check(H + "x = context.__class__", "aws") == []
    assert _check(H + "x = getattr(context, 'identity', None)", "yandex") == []


def test_nested_context_attribute() -> None:
    (problem,) = _check(H + "x = context.identity.cognito_id", "aws")
    assert problem.message.startswith("`context.identity` has no attribute 'cognito_id'")


@pytest.mark.parametrize(
    ("body", "how", "replacement"),
    [
        (
            "if context.memory_limit_in_mb > 512: pass",
            "compared with `>` to a number",
            "int(context.memory_limit_in_mb)",
        ),
        (
            "mem = context.memory_limit_in_mb\n    half = mem // 2",
            "used in arithmetic (`//`)",
            "int(mem)",
        ),
        (
            "n = context.memory_limit_in_mb * 2",
            "used in arithmetic (`*`) with a number",
            "int(context.memory_limit_in_mb)",
        ),
        (
            "for i in range(context.memory_limit_in_mb): pass",
            "passed to range()",
            "int(context.memory_limit_in_mb)",
        ),
        (
            "ok = context.memory_limit_in_mb == 128",
            "compared with `==` to a number",
            "int(context.memory_limit_in_mb)",
        ),
        ("m = context.memory_limit_in_mb\n    m -= 1", "used in arithmetic (`-`)", "int(m)"),
    ],
)
def test_aws_memory_limit_used_as_a_number(body: str, how: str, replacement: str) -> None:
    (problem,) = _check(H + body, "aws")
    assert problem.code == "context-memory-type"
    assert f"here it is {how}, which raises TypeError" in problem.message
    assert 'context.memory_limit_in_mb is a str ("3008")' in problem.message
    assert problem.fixes[0].new_text == replacement


@pytest.mark.parametrize(
    "body",
    [
        "mb = int(context.memory_limit_in_mb) * 2",
        "label = context.memory_limit_in_mb + 'MB'",
        "same = context.memory_limit_in_mb == '128'",
        "print(f'{context.memory_limit_in_mb} MB')",
    ],
)
def test_aws_memory_limit_used_as_a_string_is_fine(body: str) -> None:
    assert _check(H + body, "aws") == []


def test_yandex_memory_limit_is_an_int() -> None:
    assert _check(H + "if context.memory_limit_in_mb > 512: pass", "yandex") == []


def test_only_handlers_and_their_helpers_are_checked() -> None:
    source = (
        H + "return helper(event)\n\n\ndef helper(e):\n    return e['httpMetod']\n\n\n"
        "def unrelated(event, context):\n    return event['httpMetod'], context.deadline_ms\n"
    )
    problems = _check(source, "aws")
    assert [p.span.start.line for p in problems] == [5]
    assert check_events("main.py", source, []) == []


def test_functions_that_do_not_parse_are_not_checked() -> None:
    source = H + "x = event['httpMetod']\n    y = (\n"
    assert _check(source, "yandex") == []


def test_fixture_modules() -> None:
    text = (FIXTURES / "memory_and_context.py").read_text()
    problems = check_events("m.py", text, [HandlerContext("handler", "aws")])
    assert [(p.code, p.span.start.line) for p in problems] == [
        ("context-memory-type", 4),
        ("context-memory-type", 9),
        ("context-attribute-unknown", 10),
    ]
    yandex = check_events("m.py", text, [HandlerContext("handler", "yandex")])
    assert [(p.code, p.span.start.line) for p in yandex] == [
        ("context-attribute-unknown", 11),
    ]
    clean = (FIXTURES / "yandex_http.py").read_text()
    assert check_events("y.py", clean, [HandlerContext("handler", "yandex", "http")]) == []


def test_columns_in_problems_are_utf16() -> None:
    source = H + "s = '𝔀'; m = event['httpMetod']"
    (problem,) = _check(source, "yandex")
    # "𝔀" counts as two UTF-16 code units.
    assert problem.span == Span(Position(1, 24), Position(1, 35))


DURABLE = (
    "from aws_durable_execution_sdk_python import DurableContext, durable_execution\n\n"
    "@durable_execution\n"
    "def handler(event, context):\n"
    "    context.logger.info('start')\n"
    "    a = context.step(work(event['order']))\n"
    "    context.wait(Duration.from_seconds(5))\n"
    "    cb = context.create_callback(name='approve')\n"
    "    context.invoke('other', {}), context.parallel([]), context.map([], f)\n"
    "    context.wait_for_callback(submit), context.run_in_child_context(f)\n"
    "    return context.lambda_context.aws_request_id\n"
)


def test_a_durable_function_context_is_the_sdks_not_lambdas() -> None:
    # Issue #14 A: every DurableContext member is real; the event is the execution's input.
    assert _check(DURABLE, "aws") == []
    annotated = DURABLE.replace("@durable_execution\n", "").replace(
        "(event, context)", "(event, context: DurableContext)"
    )
    assert _check(annotated, "aws") == []
    # A typo is still a typo, in the SDK's context and in the Lambda context inside it.
    typos = _check(
        DURABLE.replace("context.wait(", "context.wiat(").replace(
            "aws_request_id", "aws_reqest_id"
        ),
        "aws",
    )
    assert [p.message.split("Did you mean ")[-1] for p in typos] == ["'wait'?", "'aws_request_id'?"]
    # A member the SDK may add later is not flagged: the model is the SDK's, not the platform's.
    assert _check(DURABLE.replace("context.logger.info", "context.new_thing"), "aws") == []


@pytest.mark.parametrize(
    "header",
    [
        "def handler(event, context: MyContext):",  # annotated as something else
        "@app.handler\ndef handler(event, context):",  # a wrapper nobody knows
        "@my_wrapper(retries=3)\ndef handler(event, context):",
        "@event_source(data_class=S3Event)\n@unknown\ndef handler(event, context):",
    ],
)
def test_a_context_that_may_not_be_the_platforms_is_not_checked(header: str) -> None:
    problems = _check(f"{header}\n    context.step(1)\n    event['httpMetod']", "aws")
    assert "context-attribute-unknown" not in [p.code for p in problems]
    if "@" in header:  # a wrapper may pass any event, too
        assert problems == []


@pytest.mark.parametrize(
    "header",
    [
        "def handler(event, context: LambdaContext):",
        "def handler(event, context: 'aws_lambda_powertools.utilities.typing.LambdaContext'):",
        "def handler(event, context: Any):",
        "@logger.inject_lambda_context(log_event=True)\n@tracer.capture_lambda_handler\n"
        "def handler(event, context):",
    ],
)
def test_known_pass_through_wrappers_and_annotations_keep_the_check(header: str) -> None:
    (problem,) = _check(f"{header}\n    context.step(1)", "aws")
    assert problem.code == "context-attribute-unknown"


def test_a_wrapper_that_replaces_the_event_keeps_the_context_check() -> None:
    source = "@event_parser(model=Order)\ndef handler(event, context):\n    event['x'], context.stp"
    assert [p.message.split("'")[1] for p in _check(source, "aws", "sqs")] == ["stp"]


def test_hasattr_and_getattr_with_a_default_guard_the_attribute() -> None:
    # Issue #14 L.
    source = (
        H + "if hasattr(context, 'tenant'):\n        print(context.tenant)\n"
        "    region = getattr(context, 'region', None)\n    return context.tenat"
    )
    assert [p.message.split("'")[1] for p in _check(source, "aws")] == ["tenat"]


@pytest.mark.parametrize(
    "body",
    [
        # Issue #14 D: documented events that are no trigger shape here.
        "for r in event['records']: print(r['recordId'])",  # Firehose, Kafka/MSK
        "return event['parameters'], event['actionGroup']",  # Bedrock Agents
        "return event['triggerSource'], event['request']['userAttributes']",  # Cognito
        "return event['RequestType'], event['ResourceProperties']",  # CloudFormation
        "return event['awslogs']['data']",  # CloudWatch Logs
        "return event['SecretId'], event['Step']",  # Secrets Manager rotation
        "return event['CodePipeline.job']['id']",
        "return event['invocationSchemaVersion'], event['tasks']",  # S3 Batch
        "return event['rmqMessagesByQueue'], event['bootstrapServers']",
        # A change of case or separator alone is another convention, not a typo.
        "return event['records'], event['HTTPMethod'], event['query_string_parameters']",
        # A name containing a known key whole is a payload's own name, not a typo of it.
        "return event['version_id'], event.get('accountid'), event['bodyText']",
    ],
)
def test_documented_aws_events_are_not_flagged_when_no_trigger_is_declared(body: str) -> None:
    assert _check(H + body, "aws") == []


def test_documented_yandex_events_are_not_flagged_when_no_trigger_is_declared() -> None:
    body = "return event['update_id'], event['callback_query'], event['session'], event['state']"
    assert _check(H + body, "yandex") == []


def test_a_declared_trigger_still_flags_a_change_of_case() -> None:
    (problem,) = _check(H + "return event['records']", "aws", "s3")
    assert problem.message.endswith("Did you mean 'Records'?")


def test_a_function_of_unknown_platform_is_not_checked() -> None:
    source = H + "event['httpMetod'], context.identiy"
    handler = HandlerContext("handler", "yandex", None, platform_known=False)
    assert check_events("main.py", source, [handler]) == []


def test_a_name_bound_differently_on_two_branches_is_unknown_after_them() -> None:
    # serverless-patterns apigw-lambda-bedrock-nova-terraform: direct calls and API Gateway.
    source = (
        H + "if 'body' in event:\n        body = json.loads(event['body'])\n"
        "    else:\n        body = event\n    return body.get('prompt')"
    )
    assert _check(source, "aws", "api-gateway-rest") == []
    # Still known where only one value reaches, inside a branch or after a bare if.
    inside = H + "if event:\n        rc = event['requestContext']\n        return rc['identiti']"
    assert [p.message.split("'")[1] for p in _check(inside, "yandex", "http")] == ["identiti"]
    tried = (
        H + "try:\n        b = event['nam']\n    except KeyError:\n        b = None\n    return b"
    )
    assert [p.message.split("'")[1] for p in _check(tried, "yandex", "http")] == ["nam"]
