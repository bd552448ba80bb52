"""Local layers on the function's sys.path (issue #18): SAM `Layers:` referencing a LayerVersion
of the same template, Globals' layers, Terraform `aws_lambda_layer_version` with a local
`source_dir`/`filename`. Every check runs the real CLI (`invoke`, a forked worker) or a real
runner over HTTP (`serve`, spawned workers).

References: AWS DG packaging-layers.html "Layer paths for each Lambda runtime" (a layer is
unpacked into /opt; Python finds `python/` and `python/lib/python3.x/site-packages`),
PLATFORMS.md §11.2 "Layers"; SAM's Globals docs ("lists are additive": Globals' layers, then
the function's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from tests.runner.harness import Runner

DUMP = """\
import sys


def handler(event, context):
    found = {}
    for name in ("common_mod", "plain_mod", "site_mod", "zipped_mod", "shadow"):
        try:
            found[name] = __import__(name).WHERE
        except ImportError as exc:
            found[name] = str(exc)
    return {"path": sys.path, "found": found}
"""

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Layers:
      - !Ref CommonLayer
Resources:
  CommonLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/common
  PlainLayer:
    Type: AWS::Lambda::LayerVersion
    Properties:
      Content: layers/plain
  SiteLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/site
  GoneLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/gone
  Dump:
    Type: AWS::Serverless::Function
    Properties:
      Handler: main.handler
      CodeUri: fn/
      Runtime: python3.11
      Layers:
        - !Ref PlainLayer
        - !Ref SiteLayer
        - !Ref GoneLayer
        - arn:aws:lambda:us-east-1:123456789012:layer:remote:3
  Other:
    Type: AWS::Serverless::Function
    Properties:
      Handler: main.handler
      CodeUri: fn/
      Runtime: python3.11
      Layers:
        - arn:aws:lambda:us-east-1:123456789012:layer:remote:3
"""

REMOTE_NOTE = (
    "handlerlens: layer arn:aws:lambda:us-east-1:123456789012:layer:remote:3 is not available "
    "locally"
)


def _module(path: Path, where: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"WHERE = {where!r}\n")


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "fn").mkdir(parents=True)
    (root / "fn" / "main.py").write_text(DUMP)
    # The code root wins over every layer, as /var/task comes first on Lambda.
    _module(root / "fn" / "shadow.py", "code root")
    _module(root / "layers" / "common" / "python" / "common_mod.py", "common/python")
    _module(root / "layers" / "common" / "python" / "shadow.py", "common layer")
    # No python/ folder: the layer's folder itself (a layer `sam build` has not built yet).
    _module(root / "layers" / "plain" / "plain_mod.py", "plain")
    site = root / "layers" / "site" / "python" / "lib" / "python3.11" / "site-packages"
    _module(site / "site_mod.py", "site/site-packages")
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


def _check_sam_layers(answer: dict[str, Any], root: Path) -> None:
    layers = root / "layers"
    # Code root, then the layers in declared order (Globals' first), each layer's
    # site-packages before its python/ as Lambda's sys.path has them, then the runtime's.
    assert answer["path"][:5] == [
        str(root / "fn"),
        str(layers / "common" / "python"),
        str(layers / "plain"),
        str(layers / "site" / "python" / "lib" / "python3.11" / "site-packages"),
        str(layers / "site" / "python"),
    ]
    assert answer["found"]["common_mod"] == "common/python"
    assert answer["found"]["plain_mod"] == "plain"
    assert answer["found"]["site_mod"] == "site/site-packages"
    assert answer["found"]["shadow"] == "code root"


def test_invoke_puts_sam_layers_after_the_code_root(tmp_path: Path):
    root = _project(tmp_path)
    done = _invoke(root, "Dump")
    _check_sam_layers(_answer(done), root)
    log = done.stderr.decode()
    # A layer whose folder is not there: a warning naming the template and the layer; the
    # function is still run.
    assert (
        "handlerlens: warning: template.yaml: layer GoneLayer: layers/gone does not exist; "
        "Dump runs without it"
    ) in log
    assert REMOTE_NOTE in log


def test_served_workers_get_the_layers_and_remote_ones_are_said_once(tmp_path: Path):
    root = _project(tmp_path)
    runner = Runner(["Dump", "Other", "--no-watch"], root)
    try:
        status, _, body = runner.request("POST", "/2015-03-31/functions/Dump/invocations", b"{}")
        assert status == 200, body
        _check_sam_layers(json.loads(body), root)
        status, _, body = runner.request("POST", "/2015-03-31/functions/Other/invocations", b"{}")
        assert status == 200, body
        other = json.loads(body)
        # Other has only the Globals layer and the remote one.
        assert other["path"][:2] == [str(root / "fn"), str(root / "layers" / "common" / "python")]
        assert other["found"]["plain_mod"] == "No module named 'plain_mod'"
        stderr = "\n".join(runner.stderr)
        assert stderr.count(REMOTE_NOTE) == 1, stderr
        assert "layer GoneLayer: layers/gone does not exist" in stderr
    finally:
        runner.stop()


def test_a_layer_zip_is_importable_as_unpacked(tmp_path: Path):
    root = _project(tmp_path)
    with zipfile.ZipFile(root / "layers" / "zipped.zip", "w") as archive:
        archive.writestr("python/zipped_mod.py", "WHERE = 'zip/python'\n")
    text = (root / "template.yaml").read_text()
    text = text.replace("ContentUri: layers/plain", "ContentUri: layers/zipped.zip")
    text = text.replace("Content: layers/plain", "Content: layers/zipped.zip")
    (root / "template.yaml").write_text(text)
    answer = _answer(_invoke(root, "Dump"))
    assert answer["path"][2] == str(root / "layers" / "zipped.zip" / "python")
    assert answer["found"]["zipped_mod"] == "zip/python"


TERRAFORM = """\
resource "aws_lambda_layer_version" "common" {
  layer_name = "common"
  source_dir = "${path.module}/layers/common"
}

data "archive_file" "plain" {
  type        = "zip"
  source_dir  = "${path.module}/layers/plain"
  output_path = "${path.module}/build/plain.zip"
}

resource "aws_lambda_layer_version" "plain" {
  layer_name = "plain"
  filename   = data.archive_file.plain.output_path
}

resource "aws_lambda_layer_version" "gone" {
  layer_name = "gone"
  filename   = "build/gone.zip"
}

resource "aws_lambda_function" "dump" {
  function_name = "dump"
  handler       = "main.handler"
  runtime       = "python3.11"
  filename      = "build/fn.zip"
  source_code_hash = "x"
  layers = [
    aws_lambda_layer_version.common.arn,
    aws_lambda_layer_version.plain.arn,
    aws_lambda_layer_version.gone.arn,
    var.shared_layer_arn,
  ]
}

data "archive_file" "fn" {
  type        = "zip"
  source_dir  = "${path.module}/fn"
  output_path = "${path.module}/build/fn.zip"
}

variable "shared_layer_arn" {
  type = string
}
"""


def test_terraform_layers_from_source_dir_and_archive_file(tmp_path: Path):
    root = _project(tmp_path)
    (root / "template.yaml").unlink()
    (root / "main.tf").write_text(TERRAFORM)
    done = _invoke(root, "dump")
    answer = _answer(done)
    assert answer["path"][:3] == [
        str(root / "fn"),
        str(root / "layers" / "common" / "python"),
        str(root / "layers" / "plain"),
    ]
    assert answer["found"]["common_mod"] == "common/python"
    assert answer["found"]["plain_mod"] == "plain"
    log = done.stderr.decode()
    assert (
        "handlerlens: warning: main.tf: layer aws_lambda_layer_version.gone: build/gone.zip "
        "does not exist; dump runs without it"
    ) in log
    assert "handlerlens: layer var.shared_layer_arn is not available locally" in log


def test_a_function_without_layers_has_only_its_code_root_first(tmp_path: Path):
    root = _project(tmp_path)
    (root / "template.yaml").write_text(
        "Resources:\n  Dump:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      Handler: main.handler\n      CodeUri: fn/\n      Runtime: python3.11\n"
    )
    done = _invoke(root, "Dump")
    answer = _answer(done)
    assert answer["path"][0] == str(root / "fn")
    assert not any(str(root / "layers") in p for p in answer["path"])
    assert "layer" not in done.stderr.decode()
    assert os.path.isdir(root / "layers")


def test_a_layer_import_at_init_is_not_said_to_fail_deployed(tmp_path: Path):
    # serve's "works here, would fail deployed" note (worker/deployed.py) knows the local
    # layers as part of the deployment; a module from elsewhere (here a PYTHONPATH folder
    # passed on) is still named.
    root = _project(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    _module(elsewhere / "stray_mod.py", "elsewhere")
    (root / "fn" / "main.py").write_text(
        "import plain_mod\nimport site_mod\nimport stray_mod\n\n\n"
        "def handler(event, context):\n    return [plain_mod.WHERE, site_mod.WHERE]\n"
    )
    env = dict(os.environ, PYTHONPATH=str(elsewhere))
    runner = Runner(["Dump", "--no-watch", "--inherit-env", "PYTHONPATH"], root, env)
    try:
        status, _, body = runner.request("POST", "/2015-03-31/functions/Dump/invocations", b"{}")
        assert status == 200 and json.loads(body) == ["plain", "site/site-packages"], body
        said = runner.wait_stderr("would fail deployed: 'stray_mod'")
        assert "stray_mod" in said
        stderr = "\n".join(runner.stderr)
        assert "'plain_mod'" not in stderr and "'site_mod'" not in stderr, stderr
    finally:
        runner.stop()


async def test_the_editors_runner_gets_the_declarations_layers_and_parameters(tmp_path: Path):
    # The language server serves a declared function as name=entry (runner/client.py); it
    # passes the declaring file on, so the editor's run has what `serve Dump` has.
    from handlerlens.project import discover
    from handlerlens.runner.client import RunnerProcess

    root = _project(tmp_path)
    text = (root / "template.yaml").read_text()
    text = text.replace(
        "Resources:\n",
        "Parameters:\n  Stage:\n    Type: String\n    Default: dev\nResources:\n",
        1,
    ).replace(
        "      Runtime: python3.11\n      Layers:\n        - !Ref PlainLayer",
        "      Runtime: python3.11\n      Environment:\n        Variables:\n"
        "          STAGE: !Ref Stage\n      Layers:\n        - !Ref PlainLayer",
        1,
    )
    (root / "template.yaml").write_text(text)
    (root / "fn" / "main.py").write_text(
        DUMP.replace(
            'return {"path"', 'import os\n    return {"stage": os.environ.get("STAGE"), "path"'
        )
    )
    (spec,) = [s for s in discover(str(root)).functions if s.name == "Dump"]
    runner = await RunnerProcess.start(spec, root=spec.root, platform=None, watch=False)
    try:
        result = await runner.invoke({}, "Dump")
        assert result.status == 200, result.json
        _check_sam_layers(result.json, root)
        assert result.json["stage"] == "dev"
    finally:
        await runner.stop()


# Serverless Framework: a top-level `layers: {name: {path: folder}}` is packaged from that
# folder and unpacked into /opt like any layer; a function names it by the logical id
# Serverless gives it (naming.js getLambdaLayerLogicalId: TitleCase name, `-` → `Dash`,
# `_` → `Underscore`, then `LambdaLayer`), and uses its own `layers:` instead of the
# provider's when it has one.
SERVERLESS = """\
service: s
provider:
  name: aws
  runtime: python3.11
  layers:
    - {Ref: CommonLambdaLayer}
layers:
  common:
    path: layers/common
  plain_deps:
    path: layers/plain
  my-site:
    path: layers/site
  gone:
    path: layers/gone
  zipped:
    package:
      artifact: build/zipped.zip
functions:
  dump:
    handler: fn/main.handler
    layers:
      - Ref: PlainUnderscoredepsLambdaLayer
      - !Ref MyDashsiteLambdaLayer
      - {Ref: GoneLambdaLayer}
      - arn:aws:lambda:us-east-1:123456789012:layer:remote:3
      - {Ref: PythonRequirementsLambdaLayer}
      - {Ref: ZippedLambdaLayer}
  other:
    handler: fn/main.handler
"""


def test_serverless_layers_by_their_logical_ids(tmp_path: Path):
    root = _project(tmp_path)
    (root / "template.yaml").unlink()
    (root / "serverless.yml").write_text(SERVERLESS)
    (root / "build").mkdir()
    with zipfile.ZipFile(root / "build" / "zipped.zip", "w") as archive:
        archive.writestr("python/zipped_mod.py", "WHERE = 'zipped'\n")
    done = _invoke(root, "dump")
    answer = _answer(done)
    layers = root / "layers"
    # The function's own list (not the provider's common layer), in its order, after the
    # code root (the service folder: the handler is fn/main.handler).
    assert answer["path"][:4] == [
        str(root),
        str(layers / "plain"),
        str(layers / "site" / "python" / "lib" / "python3.11" / "site-packages"),
        str(layers / "site" / "python"),
    ], answer["path"]
    assert answer["found"]["plain_mod"] == "plain"
    assert answer["found"]["site_mod"] == "site/site-packages"
    assert answer["found"]["common_mod"] == "No module named 'common_mod'"
    assert answer["found"]["zipped_mod"] == "zipped"  # a package.artifact zip, as unpacked
    log = done.stderr.decode()
    assert (
        "handlerlens: warning: serverless.yml: layer gone: layers/gone does not exist; "
        "dump runs without it"
    ) in log
    assert REMOTE_NOTE in log
    assert "handlerlens: layer {Ref: PythonRequirementsLambdaLayer} is not available" in log
    # Without layers of its own, the function gets the provider's.
    other = _answer(_invoke(root, "other"))
    assert other["path"][:2] == [str(root), str(layers / "common" / "python")], other["path"]
    assert other["found"]["common_mod"] == "common/python"
    assert other["found"]["plain_mod"] == "No module named 'plain_mod'"
