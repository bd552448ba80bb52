"""serverless.yml for AWS and for the Yandex Cloud plugin, case by case."""

from __future__ import annotations

import textwrap

import pytest

from handlerlens.core.model import FunctionSpec
from handlerlens.project import parse_config_file

PATH = "/w/svc/serverless.yml"


def _specs(text: str) -> list[FunctionSpec]:
    specs, problems = parse_config_file(PATH, textwrap.dedent(text))
    assert problems == []
    return specs


def _aws(events: str, provider: str = "", function: str = "") -> FunctionSpec:
    (spec,) = _specs(
        "provider:\n  name: aws\n  runtime: python3.12\n"
        + textwrap.indent(textwrap.dedent(provider), "  ")
        + "functions:\n  fn:\n    handler: handler.main\n"
        + textwrap.indent(textwrap.dedent(function), "    ")
        + "    events:\n"
        + textwrap.indent(textwrap.dedent(events), "      ")
    )
    return spec


def _yandex(events: str, provider: str = "") -> FunctionSpec:
    (spec,) = _specs(
        "provider:\n  name: yandex-cloud\n  runtime: python312\n"
        + textwrap.indent(textwrap.dedent(provider), "  ")
        + "functions:\n  fn:\n    handler: index.handler\n    events:\n"
        + textwrap.indent(textwrap.dedent(events), "      ")
    )
    return spec


@pytest.mark.parametrize(
    ("events", "triggers"),
    [
        ("- http: GET hello\n", ("api-gateway-rest",)),
        ("- httpApi: '*'\n", ("http-api",)),
        ("- s3: photos\n", ("s3",)),
        ("- sqs: arn:aws:sqs:eu-west-1:1:q\n", ("sqs",)),
        ("- sns: alerts\n", ("sns",)),
        ("- schedule: rate(1 minute)\n", ("schedule",)),
        ("- eventBridge: {schedule: rate(1 hour)}\n", ("schedule",)),
        ("- stream: {type: kinesis, arn: !GetAtt Stream.Arn}\n", ("kinesis",)),
        ("- stream: arn:aws:kinesis:eu-west-1:1:stream/s\n", ("kinesis",)),
        ("- stream: {arn: arn:aws:dynamodb:eu-west-1:1:table/t/stream/x}\n", ("dynamodb",)),
        ("- alexaSkill: amzn1.ask.skill.x\n", ()),
        ("- sqs: a\n- sqs: b\n- sns: c\n", ("sqs", "sns")),
    ],
)
def test_aws_events_map_to_trigger_ids(events: str, triggers: tuple[str, ...]) -> None:
    spec = _aws(events)
    assert spec.platform == "aws"
    assert spec.triggers == triggers


def test_aws_http_api_with_payload_1_0_has_the_rest_shape() -> None:
    spec = _aws("- httpApi: '*'\n", provider="httpApi:\n  payload: '1.0'\n")
    assert spec.triggers == ("api-gateway-rest",)


@pytest.mark.parametrize(("url", "triggers"), [("true", ("function-url",)), ("false", ())])
def test_function_url_is_a_trigger_unless_turned_off(url: str, triggers: tuple[str, ...]) -> None:
    assert _aws("[]\n", function=f"url: {url}\n").triggers == triggers


@pytest.mark.parametrize(
    ("events", "provider", "triggers"),
    [
        ("- http: {method: get, path: /}\n", "", ("api-gateway",)),
        ("- http: {method: get, path: /}\n", "httpApi: {payload: '1.0'}\n", ("api-gateway-v1",)),
        ("- http: {method: get, path: /, eventFormat: '1.0'}\n", "", ("api-gateway-v1",)),
        ("- cron: {expression: '* * * * ? *', account: sa}\n", "", ("timer",)),
        ("- ymq: {queue: q, queueAccount: sa, account: sa}\n", "", ("message-queue",)),
        ("- s3: {bucket: b, account: sa, events: [create.object]}\n", "", ("object-storage",)),
        (
            "- cr: {registry: r, imageName: i, tag: t, events: [], account: a}\n",
            "",
            ("container-registry",),
        ),
    ],
)
def test_yandex_plugin_events_map_to_trigger_ids(
    events: str, provider: str, triggers: tuple[str, ...]
) -> None:
    spec = _yandex(events, provider)
    assert spec.platform == "yandex"
    assert spec.triggers == triggers


def test_other_providers_declare_nothing_we_run() -> None:
    assert (
        _specs("provider: {name: google, runtime: python312}\nfunctions:\n  f: {handler: main.f}\n")
        == []
    )


def test_functions_may_be_a_list_of_maps() -> None:
    specs = _specs(
        """
        provider: {name: aws, runtime: python3.12}
        functions:
          - one: {handler: a.one}
          - two: {handler: b.two}
        """
    )
    assert [(s.name, s.entry) for s in specs] == [("one", "a.one"), ("two", "b.two")]


def test_image_functions_are_not_listed() -> None:
    specs = _specs(
        """
        provider: {name: aws}
        functions:
          img: {image: repo/image:latest}
        """
    )
    assert specs == []


def test_a_variable_runtime_is_left_unknown_and_the_function_kept() -> None:
    (spec,) = _specs(
        """
        provider: {name: aws, runtime: "${self:custom.runtime}"}
        functions:
          f: {handler: main.f}
        """
    )
    assert (spec.entry, spec.runtime, spec.root) == ("main.f", None, "/w/svc")
