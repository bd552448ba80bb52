"""A SAM template's Parameters in the function's environment (issue #18): `!Ref Param` and
`!Sub` in `Environment.Variables` (and in Globals) resolved from `--parameter-overrides`, else
the parameter's `Default`, as `sam local` does. Through the real CLI (`invoke`) and a real
runner (`serve`).

References: SAM CLI `--parameter-overrides` ("Key=Value" pairs separated by spaces, or
"ParameterKey=Key,ParameterValue=Value": samcli/cli/types.py `CfnParameterOverridesType`);
SAM local resolves !Ref/!Sub with the overrides, the Defaults and the pseudo parameters
(samcli/lib/intrinsic_resolver/intrinsics_symbol_table.py); RIE's region us-east-1
(PLATFORMS.md §7.3) is the local AWS::Region; SAM's Globals docs: a function's own
variables win over Globals'.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.runner.harness import Runner

DUMP = """\
import os


def handler(event, context):
    names = ("STAGE", "TABLE", "REGION", "GLOBAL", "OVERRIDDEN", "ARN", "URL", "LITERAL")
    return {name: os.environ.get(name) for name in names}
"""

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
  TableName:
    Type: String
  Retries:
    Type: Number
    Default: 3
Globals:
  Function:
    Environment:
      Variables:
        GLOBAL: !Sub "${Stage}-global"
        OVERRIDDEN: !Ref Stage
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Dump:
    Type: AWS::Serverless::Function
    Properties:
      Handler: main.handler
      CodeUri: fn/
      Runtime: python3.11
      Environment:
        Variables:
          STAGE: !Ref Stage
          TABLE:
            Ref: TableName
          REGION: !Ref AWS::Region
          OVERRIDDEN: function's own
          ARN: !GetAtt Queue.Arn
          URL: !Sub "https://${AWS::Region}.example/${Stage}/${Retries}"
          LITERAL: plain
"""


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "fn").mkdir(parents=True)
    (root / "fn" / "main.py").write_text(DUMP)
    (root / "template.yaml").write_text(TEMPLATE)
    return root


def _invoke(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "handlerlens.runner", "invoke", *args, "--event", "-"],
        cwd=root,
        input=b"{}",
        capture_output=True,
        timeout=120,
    )


def _answer(done: subprocess.CompletedProcess[bytes]) -> Any:
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def test_defaults_resolve_refs_and_an_unset_parameter_is_said(tmp_path: Path):
    root = _project(tmp_path)
    done = _invoke(root, "Dump")
    env = _answer(done)
    assert env["STAGE"] == "dev"  # the Default
    assert env["GLOBAL"] == "dev-global"  # Globals' !Sub
    assert env["OVERRIDDEN"] == "function's own"  # the function's own wins over Globals'
    assert env["REGION"] == "us-east-1"  # a pseudo parameter: RIE's region
    assert env["URL"] == "https://us-east-1.example/dev/3"
    assert env["LITERAL"] == "plain"
    # No Default, no override: not set, and said with the way to set it.
    assert env["TABLE"] is None
    log = done.stderr.decode()
    assert (
        "handlerlens: template.yaml: Dump: TABLE is !Ref TableName, a parameter with no "
        "Default: pass --parameter-overrides TableName=VALUE; it is not set"
    ) in log
    # A resource's attribute exists only deployed.
    assert env["ARN"] is None
    assert "Dump: ARN is !GetAtt Queue.Arn, known only once deployed; it is not set" in log


@pytest.mark.parametrize(
    "args",
    [
        ["--parameter-overrides", "Stage=prod TableName='orders table'"],
        [
            "--parameter-overrides",
            "ParameterKey=Stage,ParameterValue=prod "
            "'ParameterKey=TableName,ParameterValue=orders table'",
        ],
        [
            "--parameter-overrides",
            "Stage=prod",
            "--parameter-overrides",
            "TableName=orders\\ table",
        ],
    ],
)
def test_parameter_overrides_in_sams_syntaxes(tmp_path: Path, args: list[str]):
    root = _project(tmp_path)
    env = _answer(_invoke(root, "Dump", *args))
    assert env["STAGE"] == "prod" and env["GLOBAL"] == "prod-global"
    assert env["TABLE"] == "orders table"
    assert env["URL"] == "https://us-east-1.example/prod/3"


def test_served_function_gets_the_overrides_and_env_wins(tmp_path: Path):
    root = _project(tmp_path)
    runner = Runner(
        ["Dump", "--no-watch", "--parameter-overrides", "TableName=t1", "--env", "STAGE=cli"],
        root,
    )
    try:
        status, _, body = runner.request("POST", "/2015-03-31/functions/Dump/invocations", b"{}")
        assert status == 200, body
        env = json.loads(body)
        assert env["TABLE"] == "t1"
        assert env["STAGE"] == "cli"  # --env is the developer's last word, as before
        assert env["GLOBAL"] == "dev-global"
    finally:
        runner.stop()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "Stag=prod",
            "--parameter-overrides: template.yaml declares no parameter 'Stag' "
            "(its parameters: Retries, Stage, TableName)",
        ),
        ("Stage", "--parameter-overrides 'Stage': expected Name=value"),
        (
            "ParameterKey=Stage",
            "--parameter-overrides 'ParameterKey=Stage': expected "
            "ParameterKey=Name,ParameterValue=value",
        ),
        ("Stage='prod", '--parameter-overrides "Stage=\'prod": No closing quotation'),
    ],
)
def test_bad_overrides_are_a_clear_error(tmp_path: Path, value: str, message: str):
    root = _project(tmp_path)
    done = _invoke(root, "Dump", "--parameter-overrides", value)
    assert done.returncode == 2
    assert f"handlerlens: {message}" in done.stderr.decode()
    assert done.stdout == b""


def test_overrides_without_a_template(tmp_path: Path):
    root = _project(tmp_path)
    done = _invoke(root, "main.handler", "--root", "fn", "--parameter-overrides", "Stage=x")
    assert done.returncode == 2
    assert (
        "handlerlens: --parameter-overrides: no served function is declared in a SAM or "
        "CloudFormation template"
    ) in done.stderr.decode()


def test_env_vars_set_variables_the_template_computes(tmp_path: Path):
    # SAM env_vars.py `resolve`: --env-vars may set any variable the function declares,
    # whatever its value in the template (here !Ref), and wins over the parameter's value.
    root = _project(tmp_path)
    (root / "env.json").write_text(json.dumps({"Dump": {"TABLE": "t-env", "STAGE": "s-env"}}))
    done = _invoke(root, "Dump", "--env-vars", "env.json", "--parameter-overrides", "Stage=p")
    env = _answer(done)
    assert env["TABLE"] == "t-env" and env["STAGE"] == "s-env"
    assert env["GLOBAL"] == "p-global"  # the parameter still reaches the others
    log = done.stderr.decode()
    assert "declares no variable" not in log
    assert "TABLE is !Ref TableName" not in log  # set after all: nothing to say


SUB_FORMS = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Dump:
    Type: AWS::Serverless::Function
    Properties:
      Handler: main.handler
      CodeUri: fn/
      Runtime: python3.11
      Environment:
        Variables:
          STAGE: !Sub ["${Own}-${Stage}-${AWS::Region}", {Own: !Ref Stage}]
          TABLE:
            Fn::Sub:
              - "table-${Name}"
              - Name: orders
          URL: !Sub "${!Literal}-${Stage}"
          ARN: !Sub ["${Arn}/x", {Arn: !GetAtt Queue.Arn}]
"""


def test_sub_with_its_own_variables_and_an_escaped_name(tmp_path: Path):
    # CloudFormation's Fn::Sub: the list form [text, {Name: value}] (a value may be any
    # intrinsic), and `${!Literal}` for the text `${Literal}` (AWS CloudFormation user guide,
    # intrinsic-function-reference-sub).
    root = _project(tmp_path)
    (root / "template.yaml").write_text(SUB_FORMS)
    done = _invoke(root, "Dump")
    env = _answer(done)
    assert env["STAGE"] == "dev-dev-us-east-1"
    assert env["TABLE"] == "table-orders"
    assert env["URL"] == "${Literal}-dev"
    assert env["ARN"] is None
    assert (
        "Dump: ARN is !Sub's variable Arn: !GetAtt Queue.Arn, known only once deployed; "
        "it is not set"
    ) in done.stderr.decode()
