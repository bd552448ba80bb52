"""`handlerlens check`, run as users and CI run it: output formats and exit statuses."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def check(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "handlerlens", "check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.fixture(autouse=True)
def _own_parse_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's `check` keeps its parse cache in the test's folder, not the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    return tmp_path


def test_text_format_reports_a_misspelt_entry_point_once_at_its_declaration(
    workspace: Path,
) -> None:
    # Issue #21 item 12: one mistake, one problem — at the declaration; the Python place is
    # its related information (the editor shows it there as a hint), not a second error.
    result = check("examples", cwd=workspace)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "examples/orders/template.yaml:29:16: error [entry-point-function-missing]"
    )
    assert "Did you mean 'list_orders'?" in lines[0]
    assert not any(line.startswith("examples/orders/app.py") for line in lines)
    assert lines[-1] == "1 error(s), 0 warning(s), 0 info in 4 function(s)"


def test_readme_shows_the_real_output(workspace: Path) -> None:
    readme = (EXAMPLES.parent / "README.md").read_text()
    shown = readme.split("$ handlerlens check examples/\n", 1)[1].split("```", 1)[0]
    assert check("examples/", cwd=workspace).stdout == shown


def test_json_format(workspace: Path) -> None:
    result = check("examples", "--format", "json", cwd=workspace)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["functions"] == 4
    (first,) = data["problems"]
    assert first == {
        "path": "examples/orders/template.yaml",
        "line": 29,
        "column": 16,
        "endLine": 29,
        "endColumn": 30,
        "severity": "error",
        "code": "entry-point-function-missing",
        "message": first["message"],
        "source": "handlerlens",
        # the def it may have meant, in the module the entry point names
        "related": [
            {
                "path": "examples/orders/app.py",
                "line": 15,
                "column": 5,
                "message": "the module it names: app.py",
            }
        ],
    }


def test_github_format(workspace: Path) -> None:
    result = check("examples", "--format", "github", cwd=workspace)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith(
        "::error file=examples/orders/template.yaml,line=29,col=16,endLine=29,endColumn=30,"
        "title=handlerlens entry-point-function-missing::Entry point 'app.list_order'"
    )


def test_clean_project_exits_0(workspace: Path) -> None:
    template = workspace / "examples" / "orders" / "template.yaml"
    template.write_text(template.read_text().replace("app.list_order", "app.list_orders"))
    result = check("examples", cwd=workspace)
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip() == "0 error(s), 0 warning(s), 0 info in 4 function(s)"
    assert result.stderr == ""


def test_single_file_reports_only_that_file_and_its_declaration(workspace: Path) -> None:
    app = workspace / "examples" / "orders" / "app.py"
    app.write_text(
        app.read_text().replace("def create_order(event, context):", "def create_order(event):")
    )
    result = check("examples/orders/app.py", cwd=workspace)
    assert result.returncode == 1
    errors = [line for line in result.stdout.splitlines() if ": error" in line]
    # its own problem, and the misspelt entry point that leads to it (at its declaration)
    assert {line.split(":")[0] for line in errors} == {
        "examples/orders/app.py",
        "examples/orders/template.yaml",
    }
    own = [line for line in errors if line.startswith("examples/orders/app.py")]
    assert any("[handler-arity]" in line for line in own)
    assert check("examples/greeter/main.py", cwd=workspace).returncode == 0


def test_platform_option_applies_where_no_file_says(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("async def handler(event, context):\n    return 1\n")
    assert check(".", cwd=tmp_path).returncode == 0  # Yandex awaits async handlers
    result = check(".", "--platform", "aws", cwd=tmp_path)
    assert result.returncode == 1
    assert "[handler-async-unsupported]" in result.stdout


def test_scheduled_input_replaces_the_event_so_its_keys_are_not_checked(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Nightly:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Runtime: python3.12\n"
        "      Handler: app.handler\n"
        "      Events:\n"
        "        S:\n"
        "          Type: Schedule\n"
        '          Properties: {Schedule: rate(1 day), Input: \'{"job": "x"}\'}\n'
    )
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return event['job']\n")
    result = check(".", cwd=tmp_path)
    assert result.stdout.strip() == "0 error(s), 0 warning(s), 0 info in 1 function(s)"
    assert result.returncode == 0


def test_functions_sharing_a_handler_are_each_checked(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Api:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: python3.12, Handler: app.handler, Events: {A: {Type: Api, "
        "Properties: {Path: /a, Method: get}}}}\n"
        "  Queue:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: python3.7, Handler: app.handler, Events: {Q: {Type: SQS}}}\n"
    )
    # Either event may arrive, so reading the queue's key is not flagged against the API's.
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return event['Records']\n")
    result = check(".", cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert [line.split(" [")[1].split("]")[0] for line in lines[:-2]] == ["runtime-unsupported"]
    assert lines[-1] == "0 error(s), 1 warning(s), 0 info in 2 function(s)"


def test_no_function_found_passes_with_a_warning(tmp_path: Path) -> None:
    # One parameter: not handler-shaped, and nothing declares it. A silent "0 errors" here
    # would read as "all good" in CI.
    (tmp_path / "main.py").write_text("def handler(event):\n    return 1\n")
    result = check(".", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == "0 error(s), 0 warning(s), 0 info in 0 function(s)"
    assert result.stderr.startswith("handlerlens check: warning: no function found under .:")
    assert "[tool.handlerlens]" in result.stderr
    # A declaring file that does not parse explains the empty result itself.
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources: [unclosed\n"
    )
    result = check(".", cwd=tmp_path)
    assert result.returncode == 1
    assert "[config-parse-error]" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("args", [("--format", "xml"), ("no/such/dir",), ("--platform", "gcp")])
def test_usage_errors_exit_2(workspace: Path, args: tuple[str, ...]) -> None:
    result = check(*args, cwd=workspace)
    assert result.returncode == 2
    assert result.stderr.strip()


SAM_HEAD = "Transform: AWS::Serverless-2016-10-31\nResources:\n"


def test_a_durable_function_is_clean(tmp_path: Path) -> None:
    # Issue #14 A.
    (tmp_path / "template.yaml").write_text(
        SAM_HEAD + "  Flow:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: python3.13, Handler: app.handler}\n"
    )
    (tmp_path / "app.py").write_text(
        "from aws_durable_execution_sdk_python import DurableContext, durable_execution\n\n\n"
        "@durable_execution\n"
        "def handler(event: dict, context: DurableContext) -> dict:\n"
        "    context.logger.info('order %s', event['order_id'])\n"
        "    paid = context.step(lambda _: True, name='pay')\n"
        "    context.wait(Duration.from_seconds(10))\n"
        "    cb = context.create_callback(name='approve')\n"
        "    return {'paid': paid, 'approved': cb.result(), 'lent': context.invoke('f', {})}\n"
    )
    result = check(".", cwd=tmp_path)
    assert result.stdout.strip() == "0 error(s), 0 warning(s), 0 info in 1 function(s)"
    assert result.returncode == 0


def test_documented_events_without_a_declared_trigger_are_clean(tmp_path: Path) -> None:
    # Issue #14 D: Firehose's lowercase `records`, Bedrock Agents' `parameters`.
    (tmp_path / "template.yaml").write_text(
        SAM_HEAD + "  Transform:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: python3.12, Handler: app.handler}\n"
    )
    (tmp_path / "app.py").write_text(
        "def handler(event, context):\n"
        "    out = [{'recordId': r['recordId'], 'result': 'Ok', 'data': r['data']}\n"
        "           for r in event['records']]\n"
        "    return {'records': out, 'agent': event.get('parameters'), 'm': event['httpMetod']}\n"
    )
    result = check(".", cwd=tmp_path)
    # Only the real typo is reported, and with no harmful did-you-mean.
    assert _codes(result) == ["event-key-unknown"]
    assert "httpMetod" in result.stdout and "'Records'" not in result.stdout


def test_a_guess_uses_aws_checks_with_aws_evidence_and_none_without(tmp_path: Path) -> None:
    # Issue #14 E.
    source = "async def handler(event, context):\n    return context.functon_name\n"
    (tmp_path / "main.py").write_text(source)
    assert check(".", cwd=tmp_path).returncode == 0  # no evidence: no platform-specific check
    (tmp_path / "cdk.json").write_text("{}")
    result = check(".", cwd=tmp_path)
    # AWS: async is refused.
    assert _codes(result) == ["handler-async-unsupported", "context-attribute-unknown"]
    (tmp_path / "cdk.json").unlink()
    (tmp_path / "main.py").write_text("import ydb\n" + source)
    result = check(".", cwd=tmp_path)
    assert _codes(result) == ["context-attribute-unknown"]  # Yandex awaits async handlers
    assert check(".", "--platform", "aws", cwd=tmp_path).returncode == 1  # the setting wins


def test_non_proxy_and_non_http_functions_return_any_json(tmp_path: Path) -> None:
    # Issue #14 F.
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider: {name: aws, runtime: python3.12}\nfunctions:\n"
        "  mapped:\n    handler: mapped.handler\n"
        "    events: [{http: {path: x, method: get, integration: lambda}}]\n"
        "  upload:\n    handler: upload.handler\n    events: [{s3: photos}]\n"
        "  proxied:\n    handler: proxied.handler\n    events: [{http: {path: y, method: get}}]\n"
    )
    reply = "    return {'statusCode': 200, 'body': {'q': 1}}\n"
    mapped = "def handler(event, context):\n    event['query']\n"
    (tmp_path / "mapped.py").write_text(mapped + reply)
    (tmp_path / "upload.py").write_text("def handler(event, context):\n" + reply)
    (tmp_path / "proxied.py").write_text("def handler(event, context):\n" + reply)
    result = check(".", cwd=tmp_path)
    assert _codes(result) == ["response-body-not-string"]
    assert result.stdout.startswith("proxied.py:")


def test_placeholder_runtime_and_newer_grammar(tmp_path: Path) -> None:
    # Issue #14 L.
    (tmp_path / "template.yaml").write_text(
        SAM_HEAD + "  A:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: PYTHON3_VERSION, Handler: a.handler}\n"
        "  B:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: python3.9, Handler: a.handler}\n"
        "  C:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: python3.13, Handler: c.handler}\n"
    )
    (tmp_path / "a.py").write_text(
        "def handler(event, context):\n"
        "    if hasattr(context, 'tenant'):\n        return context.tenant\n"
        "    return getattr(context, 'extra', None)\n"
    )
    (tmp_path / "c.py").write_text('def handler(event, context):\n    return f"{"a"}"\n')
    result = check(".", cwd=tmp_path)
    lines = result.stdout.splitlines()
    deprecated = [line for line in lines if "[runtime-unsupported]" in line]
    assert len(deprecated) == 1 and "python3.9' is deprecated on AWS Lambda" in deprecated[0]
    if sys.version_info < (3, 12):
        assert "[entry-point-syntax-unchecked]" in result.stdout
    assert "error" not in " ".join(lines[:-1]).replace("0 error(s)", "")


# Issue 14: Terraform and deploy scripts -------------------------------------------------

HANDLER = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n"


def _tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def _zip_of(names: list[str]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, HANDLER)
    return buffer.getvalue()


def test_check_reads_a_file_whose_heredoc_closes_with_trailing_spaces(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "src/app.py": HANDLER,
            "main.tf": 'resource "aws_iam_policy" "p" {\n  policy = <<EOF\n{}\nEOF   \n}\n'
            'data "archive_file" "a" {\n  source_dir = "src"\n  output_path = "a.zip"\n}\n'
            'resource "aws_lambda_function" "f" {\n  handler = "app.handler"\n'
            '  runtime = "python3.12"\n  filename = data.archive_file.a.output_path\n}\n',
        },
    )
    result = check(".", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout == "0 error(s), 0 warning(s), 0 info in 1 function(s)\n"


def test_check_reads_the_names_in_a_terraform_zip(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "fn.zip": _zip_of(["app.py"]),
            "main.tf": 'resource "aws_lambda_function" "ok" {\n  handler = "app.handler"\n'
            '  runtime = "python3.12"\n  filename = "fn.zip"\n}\n'
            'resource "aws_lambda_function" "bad" {\n  handler = "api.handler"\n'
            '  runtime = "python3.12"\n  filename = "fn.zip"\n}\n'
            'resource "aws_lambda_function" "later" {\n  handler = "job.handler"\n'
            '  runtime = "python3.12"\n  filename = "build/job.zip"\n}\n',
        },
    )
    result = check(".", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "main.tf:7:14: error [entry-point-module-missing] Entry point 'api.handler': there is no "
        "api.py (nor a package api/) in fn.zip (its modules: app)."
    )
    assert lines[1].startswith("main.tf:14:14: info [config-value-unresolved] The code of ")
    assert "build/job.zip, which is not there yet" in lines[1]
    assert lines[-1] == "1 error(s), 0 warning(s), 1 info in 3 function(s)"


def test_check_follows_code_uploaded_to_a_bucket_from_an_archive_file(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "src/app.py": HANDLER,
            "main.tf": 'data "archive_file" "code" {\n  source_dir = "${path.module}/src"\n'
            '  output_path = "${path.module}/code.zip"\n}\n'
            'resource "aws_s3_object" "code" {\n  bucket = aws_s3_bucket.b.id\n'
            '  key = "code.zip"\n  source = data.archive_file.code.output_path\n}\n'
            'resource "aws_lambda_function" "f" {\n  handler = "app.handlr"\n'
            '  runtime = "python3.12"\n  s3_bucket = aws_s3_bucket.b.id\n'
            "  s3_key = aws_s3_object.code.key\n}\n",
        },
    )
    result = check(".", cwd=tmp_path)
    assert result.returncode == 1
    # An AWS function (not "not from this workspace", nor a guessed Yandex one).
    assert "main.tf:11:14: error [entry-point-function-missing]" in result.stdout
    assert "AWS Lambda would fail" in result.stdout
    assert result.stdout.endswith("1 error(s), 0 warning(s), 0 info in 1 function(s)\n")


def test_check_says_why_a_code_root_cannot_be_resolved_instead_of_a_missing_module(
    tmp_path: Path,
) -> None:
    _tree(
        tmp_path,
        {
            "variables.tf": 'variable "src" {\n  default = "/home/author/project/src"\n}\n',
            "main.tf": 'data "archive_file" "a" {\n  source_dir = var.src\n'
            '  output_path = "a.zip"\n}\n'
            'resource "yandex_function" "f" {\n  entrypoint = "main.handler"\n'
            '  runtime = "python312"\n  user_hash = data.archive_file.a.output_sha256\n'
            "  content {\n    zip_filename = data.archive_file.a.output_path\n  }\n}\n",
        },
    )
    result = check(".", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    (line, _, summary) = result.stdout.splitlines()
    assert line.startswith("main.tf:2:16: info [config-value-unresolved] The source_dir of ")
    assert "`var.src` (its default, /home/author/project/src, does not exist here)" in line
    assert summary == "0 error(s), 0 warning(s), 1 info in 1 function(s)"


def test_check_reads_the_registry_lambda_module_and_local_modules(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "src/orders.py": HANDLER,
            "jobs/jobs.py": HANDLER,
            "modules/fn/main.tf": 'resource "aws_lambda_function" "this" {\n'
            "  function_name = var.name\n  handler = var.handler\n"
            '  runtime = "python3.12"\n  filename = data.archive_file.z.output_path\n}\n'
            'data "archive_file" "z" {\n  source_dir = var.dir\n  output_path = "z.zip"\n}\n',
            "main.tf": 'module "orders" {\n  source = "terraform-aws-modules/lambda/aws"\n'
            '  function_name = "orders"\n  handler = "orders.handle"\n'
            '  runtime = "python3.12"\n  source_path = "${path.module}/src"\n}\n'
            'module "jobs" {\n  source = "./modules/fn"\n  name = "jobs"\n'
            '  handler = "jobs.handler"\n  dir = "${path.module}/jobs"\n}\n',
        },
    )
    result = check(".", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "main.tf:4:14: error [entry-point-function-missing] Entry point 'orders.handle'"
    )
    assert "Did you mean 'handler'?" in lines[0]
    assert lines[-1] == "1 error(s), 0 warning(s), 0 info in 2 function(s)"


def test_check_reads_yc_deploy_commands_in_scripts(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "src/main.py": HANDLER,
            "deploy.sh": "#!/bin/sh\nyc serverless function version create \\\n"
            "  --function-name hello \\\n  --runtime python311 \\\n"
            "  --entrypoint main.handler \\\n  --source-path ./src\n",
        },
    )
    result = check(".", cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("deploy.sh:4:13: warning [runtime-unsupported]")
    assert lines[-1] == "0 error(s), 1 warning(s), 0 info in 1 function(s)"
    (tmp_path / "deploy.sh").write_text(
        (tmp_path / "deploy.sh").read_text().replace("python311", "python312")
    )
    assert check(".", cwd=tmp_path).stdout == "0 error(s), 0 warning(s), 0 info in 1 function(s)\n"


# Issue 14: declarations whose code is not a plain folder, or not Python (B, C, H, I, J, M),
# and the walk's cap.


def _sam(code: str, handler: str = "index.handler", extra: str = "") -> str:
    return (
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        f"      Handler: {handler}\n"
        "      Runtime: python3.12\n"
        f"      {code}\n" + extra
    )


def _codes(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.split(" [", 1)[1].split("]", 1)[0] for line in result.stdout.splitlines()[:-2]]


def test_b_a_module_inside_a_zip_code_uri_is_found(tmp_path: Path) -> None:
    import zipfile

    (tmp_path / "src").mkdir()
    with zipfile.ZipFile(tmp_path / "src" / "index.zip", "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return 1\n")
    (tmp_path / "template.yaml").write_text(_sam("CodeUri: src/index.zip"))
    result = check(".", cwd=tmp_path)
    assert result.stdout.strip() == "0 error(s), 0 warning(s), 0 info in 1 function(s)"
    assert result.returncode == 0
    # The zip lacks the module: one error, naming the archive and what it holds.
    with zipfile.ZipFile(tmp_path / "src" / "index.zip", "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 1\n")
    result = check(".", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("template.yaml:6:16: error [entry-point-module-missing]")
    assert "in the archive src/index.zip (its modules: app)" in result.stdout


def test_b_a_zip_not_built_yet_is_an_info_and_exits_0(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(_sam("CodeUri: build/index.zip"))
    (tmp_path / "index.py").write_text("x = 1\n")  # not the function's code
    result = check(".", cwd=tmp_path)
    assert _codes(result) == ["code-root-unresolved"]
    assert "the archive build/index.zip does not exist (yet)" in result.stdout
    assert result.returncode == 0


def test_b_inline_code_is_the_module_index(tmp_path: Path) -> None:
    code = "InlineCode: |\n        def handler(event, context):\n          return 1"
    (tmp_path / "template.yaml").write_text(_sam(code))
    assert check(".", cwd=tmp_path).returncode == 0
    (tmp_path / "template.yaml").write_text(_sam(code, handler="index.handle"))
    result = check(".", cwd=tmp_path)
    assert _codes(result) == ["entry-point-function-missing"]
    assert "Did you mean 'index.handler'?" in result.stdout
    assert result.returncode == 1
    # Another module than index: the inline code is a placeholder replaced later.
    (tmp_path / "template.yaml").write_text(_sam(code, handler="app.handler"))
    result = check(".", cwd=tmp_path)
    assert _codes(result) == ["code-root-unresolved"]
    assert "looks like a placeholder" in result.stdout and result.returncode == 0


def test_c_a_serverless_service_without_runtime_is_node(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider: {name: aws}\nfunctions:\n  hello: {handler: handler.hello}\n"
    )
    (tmp_path / "handler.js").write_text("module.exports.hello = async () => ({});\n")
    result = check(".", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == "0 error(s), 0 warning(s), 0 info in 0 function(s)"


def test_h_a_code_uri_naming_one_py_file_is_that_module(tmp_path: Path) -> None:
    (tmp_path / "fns").mkdir()
    (tmp_path / "fns" / "resize.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "template.yaml").write_text(_sam("CodeUri: fns/resize.py", "resize.handler"))
    result = check(".", cwd=tmp_path)
    assert result.stdout.strip() == "0 error(s), 0 warning(s), 0 info in 1 function(s)"


def test_i_plugin_and_adapter_handlers_are_infos_not_missing_modules(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(
        "provider: {name: aws, runtime: python3.12}\n"
        "plugins: [serverless-wsgi, serverless-python-requirements]\n"
        "custom: {wsgi: {app: app.app}}\n"
        "functions:\n"
        "  api: {handler: wsgi_handler.handler}\n"
        "  job: {handler: index.main, module: job}\n"
    )
    (tmp_path / "app.py").write_text("app = object()\n")
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "index.py").write_text("def main(event, context):\n    return 1\n")
    web = tmp_path / "web"
    web.mkdir()
    (web / "template.yaml").write_text(
        _sam(
            "Layers: [arn:aws:lambda:us-east-1:753240598075:layer:LambdaAdapterLayerX86:24]",
            "run.sh",
        )
    )
    result = check(".", cwd=tmp_path)
    assert _codes(result) == ["handler-unverifiable", "handler-unverifiable"]
    assert "serverless-wsgi" in result.stdout and "Lambda Web Adapter" in result.stdout
    assert result.stdout.splitlines()[-1] == "0 error(s), 0 warning(s), 2 info in 1 function(s)"
    assert result.returncode == 0


def test_j_a_cookiecutter_template_is_not_a_parse_error(tmp_path: Path) -> None:
    project = tmp_path / "{{cookiecutter.project_name}}"
    project.mkdir()
    (project / "template.yaml").write_text(
        _sam("CodeUri: src", extra="{% if cookiecutter.x %}\nOutputs: {}\n{% endif %}\n")
    )
    (tmp_path / "template.yaml").write_text(
        _sam("CodeUri: src", extra="{%- if cookiecutter.tracing %}\n      Tracing: Active\n")
    )
    result = check(".", cwd=tmp_path)
    assert _codes(result) == ["config-template"]
    assert result.returncode == 0


def test_m_a_build_output_code_root_is_an_info_not_another_folder(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(_sam("CodeUri: .aws-sam/build/Fn"))
    (tmp_path / "index.py").write_text("x = 1\n")  # the template's folder is not the code
    result = check(".", cwd=tmp_path)
    assert _codes(result) == ["code-root-unresolved"]
    assert "a build output that is not there yet" in result.stdout
    assert result.returncode == 0


def test_the_walk_cap_is_said_on_stderr(tmp_path: Path) -> None:
    # A lowered cap stands in for a tree of 100,000 entries; the CLI runs for real.
    for i in range(30):
        (tmp_path / f"d{i:02}").mkdir()
    (tmp_path / "zz").mkdir()
    (tmp_path / "zz" / "main.py").write_text("def handler(event, context):\n    return 1\n")
    script = (
        "import sys, handlerlens.project.walk as w; w.MAX_ENTRIES = 20; "
        "from handlerlens.cli import main; sys.exit(main(['check', '.']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "stopped reading" in result.stderr and "after 20 files and folders" in result.stderr
    assert "(the walk's cap)" in result.stderr
    assert "0 function(s)" in result.stdout  # zz/main.py was past the cap


def test_run_check_in_process_leaves_the_cycle_collector_as_it_found_it(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The check pass runs without the cyclic collector (a fifth of its CPU on a big tree) and
    # freezes what it leaves; a caller in the same process gets the collector back, working.
    import gc

    from handlerlens.check import run_check

    monkeypatch.chdir(workspace)
    assert gc.isenabled()
    try:
        assert run_check(["examples"], "json", None) == 1
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
        assert json.loads(capsys.readouterr().out)["functions"] == 4
    finally:
        gc.unfreeze()
    gc.disable()
    try:
        run_check(["examples"], "json", None)
        assert not gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()


def test_a_runtime_in_another_file_than_the_entry_point_is_checked_there(tmp_path: Path) -> None:
    # The entry point comes from a variable's default in variables.tf, the runtime is a
    # literal in cloud_function.tf: the runtime is still judged, at its own position.
    _tree(
        tmp_path,
        {
            "src/main.py": "def handler(event, context):\n    return 1\n",
            "cloud_function.tf": 'resource "yandex_function" "bot" {\n  name = "bot"\n'
            '  runtime = "python39"\n  entrypoint = var.entrypoint\n  memory = 128\n'
            '  content {\n    zip_filename = "fn.zip"\n  }\n}\n',
            "variables.tf": 'variable "entrypoint" {\n  default = "main.handler"\n}\n',
        },
    )
    result = check(".", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith(
        "cloud_function.tf:3:14: warning [runtime-unsupported] Runtime 'python39' is not "
        "supported by Yandex Cloud Functions"
    )


def test_deploy_checks_in_check(tmp_path: Path) -> None:
    """What deploy would reject, through the real command: same codes and positions as the
    editor's (tests/lsp/test_deploy.py)."""
    from tests.lsp.test_deploy import _project

    _project(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "handlerlens", "check", "--format", "json", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    rows = json.loads(result.stdout)["problems"]
    got = sorted(
        (r["path"], r["line"], r["column"], r["endColumn"], r["severity"], r["code"]) for r in rows
    )
    assert got == [
        ("app/app.py", 2, 8, 11, "error", "import-removed-in-runtime"),
        ("app/app.py", 3, 8, 16, "error", "import-not-packaged"),
        ("app/app.py", 7, 23, 31, "warning", "env-var-undeclared"),
    ]
    message = next(r["message"] for r in rows if r["code"] == "import-not-packaged")
    assert message.endswith(
        'AWS Lambda would fail with "Runtime.ImportModuleError: Unable to import module '
        "'app': No module named 'requests'\". Add 'requests' to app/requirements.txt. "
        "[function 'Orders' in template.yaml]"
    )


def test_the_parse_cache_is_kept_per_folder_and_no_cache_leaves_it_alone(
    workspace: Path, tmp_path: Path
) -> None:
    import os
    import pickle

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    cache = tmp_path / "xdg" / "handlerlens" / "check"
    plain = check("examples", "--no-cache", cwd=workspace, env=env)
    assert plain.returncode == 1 and not cache.exists()
    first = check("examples", cwd=workspace, env=env)
    (kept,) = cache.iterdir()
    second = check("examples", cwd=workspace, env=env)
    assert first.stdout == second.stdout == plain.stdout
    assert (first.returncode, second.returncode) == (1, 1)
    # A damaged file: the same answer, and the file is whole again.
    kept.write_bytes(b"\x80\x05garbage")
    third = check("examples", cwd=workspace, env=env)
    assert third.stdout == plain.stdout and third.stderr == ""
    with kept.open("rb") as handle:
        assert len(pickle.load(handle)[1]) > 0
    # Two runs at once both answer, and leave one readable file behind.
    kept.unlink()
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "handlerlens", "check", "examples"],
            cwd=workspace,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=60)[0] for run in runs]
    assert outputs == [plain.stdout, plain.stdout]
    assert [p.name for p in cache.iterdir()] == [kept.name]
    with kept.open("rb") as handle:
        assert len(pickle.load(handle)[1]) > 0


def test_the_cache_sees_a_fix_made_since_the_last_run(workspace: Path, tmp_path: Path) -> None:
    import os

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    assert check("examples", cwd=workspace, env=env).returncode == 1
    template = workspace / "examples" / "orders" / "template.yaml"
    template.write_text(template.read_text().replace("app.list_order", "app.list_orders"))
    result = check("examples", cwd=workspace, env=env)
    assert result.returncode == 0, result.stdout


def test_a_guessed_handler_in_newer_python_is_checked_not_dropped(tmp_path: Path) -> None:
    # Holdout miss (c): a 3.12 file on a 3.10/3.11 server was silently not a function.
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.py").write_text(
        "import boto3\n\ntype Pair = tuple[int, int]\n\n\n"
        "def handler(event, context):\n    return {'ok': True}\n"
    )
    result = check("app", "--format", "json", "--no-cache", cwd=tmp_path)
    data = json.loads(result.stdout)
    assert data["functions"] == 1, result.stderr
    codes = [p["code"] for p in data["problems"]]
    assert codes == (["entry-point-syntax-unchecked"] if sys.version_info < (3, 12) else [])
    assert result.returncode == 0


def test_route_problems_are_reported_at_the_declaring_file(tmp_path: Path) -> None:
    """Routes (#17): a function_id no declaration resolves is a warning at it, with the
    mapping that fixes it; `[tool.handlerlens] function-ids` maps it and check passes."""
    from tests.lsp.test_routes_problems import PYPROJECT, yandex_app

    app = yandex_app(tmp_path / "app")
    result = check("app", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "app/api.yaml:10:22: warning [route-function-unknown] GET /hello/{name}: function_id "
        "d4e0c0ffee0000000001 names no function declared in this workspace"
    )
    assert lines[0].endswith(
        "Or map it to a declared function in pyproject.toml: [tool.handlerlens] function-ids = "
        '{ "d4e0c0ffee0000000001" = "<function name>" }.'
    )
    assert lines[-1] == "0 error(s), 1 warning(s), 0 info in 1 function(s)"
    (app / "pyproject.toml").write_text(
        PYPROJECT.replace(
            'platform = "yandex"\n',
            'platform = "yandex"\nfunction-ids = { "d4e0c0ffee0000000001" = "greeter" }\n',
        )
    )
    mapped = check("app", "--format", "json", cwd=tmp_path)
    assert mapped.returncode == 0, mapped.stdout
    assert json.loads(mapped.stdout) == {"functions": 1, "problems": []}


def test_route_conflicts_and_invalid_routes_fail_check(tmp_path: Path) -> None:
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "routes"
    shutil.copytree(fixtures / "sls-app", tmp_path / "sls-app")
    result = check("sls-app", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1
    rows = json.loads(result.stdout)["problems"]
    assert [(r["path"], r["line"], r["column"], r["code"]) for r in rows] == [
        ("sls-app/serverless.yml", 37, 15, "route-invalid"),
        ("sls-app/serverless.yml", 38, 15, "route-conflict"),
    ]
    assert "'FETCH' is not an HTTP method" in rows[0]["message"]


DEPLOY_CODES = ("import-not-packaged", "import-removed-in-runtime", "env-var-undeclared")


def test_deploy_checks_kept_in_the_parse_cache_see_every_change(tmp_path: Path) -> None:
    """A file's import scan, the manifests and what the installed metadata says come from the
    parse cache on a second run; each kind of change since is seen, as `--no-cache` sees it."""
    import os
    import pickle
    import textwrap

    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    template = root / "template.yaml"
    template.write_text(
        textwrap.dedent(
            """\
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Orders:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: app/
                  Handler: app.handler
                  Runtime: python3.12
                  Environment:
                    Variables:
                      TABLE: orders
            """
        )
    )
    (root / "app" / "app.py").write_text(
        "import os\nimport requests\nimport helper\n\n\ndef handler(event, context):\n"
        '    return os.environ["BUCKET"]\n'
    )
    helper = root / "app" / "helper.py"
    helper.write_text("import json\n")
    requirements = root / "app" / "requirements.txt"
    requirements.write_text("-r base.txt\n")
    base = root / "app" / "base.txt"
    base.write_text("boto3\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}

    def rows(*options: str) -> list[tuple[str, int, str]]:
        done = check("--format", "json", *options, str(root), cwd=root, env=env)
        assert done.returncode in (0, 1), done.stderr
        found = json.loads(done.stdout)["problems"]
        return sorted((r["path"], r["line"], r["code"]) for r in found if r["code"] in DEPLOY_CODES)

    def same_cached_and_not() -> list[tuple[str, int, str]]:
        cached = rows()
        assert cached == rows("--no-cache")
        return cached

    cold = rows()
    assert cold == [
        ("app/app.py", 2, "import-not-packaged"),
        ("app/app.py", 7, "env-var-undeclared"),
    ]
    assert rows() == cold  # warm: from the cache
    (kept,) = (tmp_path / "xdg" / "handlerlens" / "check").iterdir()
    with kept.open("rb") as handle:
        values = [value for value, _ in pickle.load(handle)[1].values()]
    kinds = {type(v).__name__ for v in values}
    assert {"FileScan", "tuple", "frozenset"} <= kinds, kinds  # scans, manifests, metadata
    # A file the manifest includes (kept by its stamp).
    base.write_text("boto3\nrequests\n")
    assert same_cached_and_not() == [("app/app.py", 7, "env-var-undeclared")]
    # A helper module (its scan, by its text).
    helper.write_text("import json\nimport yaml\n")
    assert same_cached_and_not() == [
        ("app/app.py", 7, "env-var-undeclared"),
        ("app/helper.py", 2, "import-not-packaged"),
    ]
    # The manifest itself, and the declaring file.
    requirements.write_text("-r base.txt\npyyaml\n")
    template.write_text(template.read_text() + "          BUCKET: files\n")
    assert same_cached_and_not() == []
