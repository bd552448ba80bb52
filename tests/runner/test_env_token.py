"""A Yandex function's IAM token in `context.token` (issue #18), through the real CLI (`invoke`)
and a real runner (`serve`), with a fake `yc` script on PATH where `yc` is the source.

References: PLATFORMS.md §12.2 (Yandex deployed with a service account: `context.token` =
`{"access_token": "…", "expires_in": 42299, "token_type": "Bearer"}`, "present only if the
correct service account is specified", YC functions/concepts/function-invoke.md #service-data;
a developer machine's token: `yc iam create-token`, lifetime limited, refresh about hourly,
YC iam/operations/iam-token/create.md, _includes/iam-token-lifetime.md; the Rec.: only when
the function declares a service account, `expires_in` a fixed emulated value), §9 #7 (without
a service account `context.token` is None).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.runner.harness import Runner

HANDLER = """\
import os


def handler(event, context):
    return {
        "token": context.token,
        "seen": {k: v for k, v in os.environ.items() if "TOKEN" in k},
    }
"""

TERRAFORM = """\
resource "yandex_function" "tok" {
  name               = "tok"
  entrypoint         = "main.handler"
  runtime            = "python312"
  memory             = 128
  user_hash          = "x"
  service_account_id = yandex_iam_service_account.fn.id
  content {
    zip_filename = data.archive_file.fn.output_path
  }
}

resource "yandex_function" "plain" {
  name       = "plain"
  entrypoint = "main.handler"
  runtime    = "python312"
  memory     = 128
  user_hash  = "x"
  content {
    zip_filename = data.archive_file.fn.output_path
  }
}

data "archive_file" "fn" {
  type        = "zip"
  source_dir  = "${path.module}"
  output_path = "${path.module}/build/fn.zip"
}
"""

# A stand-in for the yc CLI: prints a new token each call (counting calls in a file), or
# fails as yc does without a profile.
FAKE_YC = """\
#!/bin/sh
if [ -n "$FAKE_YC_FAIL" ]; then
  echo "ERROR: the current profile has no token" >&2
  exit 1
fi
[ "$1 $2" = "iam create-token" ] || { echo "unexpected: $*" >&2; exit 2; }
echo x >> "$FAKE_YC_CALLS"
echo "t1.yc-$(wc -l < "$FAKE_YC_CALLS" | tr -d ' ')"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "main.py").write_text(HANDLER)
    (root / "main.tf").write_text(TERRAFORM)
    return root


@pytest.fixture
def fake_yc(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    yc = folder / "yc"
    yc.write_text(FAKE_YC)
    yc.chmod(0o755)
    return folder


def _env(fake_yc: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("YC_TOKEN", "HANDLERLENS_YC_TOKEN")}
    path = env.get("PATH", "/usr/bin:/bin")
    # No real yc of the machine's: only the fake one, when given.
    env["PATH"] = os.pathsep.join(
        ([str(fake_yc)] if fake_yc else [])
        + [p for p in path.split(os.pathsep) if not (Path(p) / "yc").exists()]
    )
    env.update(extra)
    return env


def _invoke(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "handlerlens.runner", "invoke", *args, "--event", "-"],
        cwd=root,
        input=b"{}",
        capture_output=True,
        env=env,
        timeout=120,
    )


def _answer(done: subprocess.CompletedProcess[bytes]) -> Any:
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def test_yc_on_path_gives_a_function_with_a_service_account_its_token(
    project: Path, fake_yc: Path, tmp_path: Path
):
    calls = tmp_path / "calls"
    done = _invoke(project, _env(fake_yc, FAKE_YC_CALLS=str(calls)), "tok")
    answer = _answer(done)
    token = answer["token"]
    # The platform's shape: access_token, expires_in (seconds, int), token_type Bearer.
    assert list(token) == ["access_token", "expires_in", "token_type"]
    assert token["access_token"] == "t1.yc-1" and token["token_type"] == "Bearer"
    # An IAM token lives at most 12 hours; just taken, it has about that left.
    assert isinstance(token["expires_in"], int) and 12 * 3600 - 60 < token["expires_in"] <= 43200
    log = done.stderr.decode()
    assert f"handlerlens: tok: context.token from `yc iam create-token` ({fake_yc}/yc)" in log
    assert calls.read_text() == "x\n"


def test_without_a_service_account_the_token_is_none_and_a_note_says_why(
    project: Path, fake_yc: Path, tmp_path: Path
):
    calls = tmp_path / "calls"
    token_file = tmp_path / "token.txt"
    token_file.write_text("t1.file\n")
    done = _invoke(
        project, _env(fake_yc, FAKE_YC_CALLS=str(calls)), "plain", "--token-file", str(token_file)
    )
    assert _answer(done)["token"] is None
    assert (
        "handlerlens: plain declares no service account: context.token is None, as deployed"
    ) in done.stderr.decode()
    assert not calls.exists()  # yc is not even asked


def test_a_token_file_and_the_variables(project: Path, tmp_path: Path):
    token_file = tmp_path / "token.txt"
    token_file.write_text("t1.from-file\n")
    done = _invoke(project, _env(YC_TOKEN="t1.env"), "tok", "--token-file", str(token_file))
    assert _answer(done)["token"]["access_token"] == "t1.from-file"
    assert f"tok: context.token from --token-file {token_file}" in done.stderr.decode()
    # JSON with an expiry: expires_in counts down to it.
    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 600))
    token_file.write_text(json.dumps({"access_token": "t1.json", "expires_at": soon}))
    token = _answer(_invoke(project, _env(), "tok", "--token-file", str(token_file)))["token"]
    assert token["access_token"] == "t1.json" and 500 < token["expires_in"] <= 600
    # HANDLERLENS_YC_TOKEN first, then YC_TOKEN; neither reaches the function's environment.
    both = _env(YC_TOKEN="t1.yc-token", HANDLERLENS_YC_TOKEN="t1.ours")
    answer = _answer(_invoke(project, both, "tok"))
    assert answer["token"]["access_token"] == "t1.ours" and answer["seen"] == {}
    done = _invoke(project, _env(YC_TOKEN="t1.yc-token"), "tok")
    assert _answer(done)["token"]["access_token"] == "t1.yc-token"
    assert "tok: context.token from the YC_TOKEN variable" in done.stderr.decode()


@pytest.mark.parametrize(
    ("content", "age_s", "message"),
    [
        ("", 0, "--token-file {path}: the file is empty; put an IAM token in it"),
        ("  \n", 0, "--token-file {path}: the file is empty"),
        ("t1.old\n", 13 * 3600, "--token-file {path}: the token expired at "),
        ("{}", 0, "--token-file {path}: a JSON token file needs an access_token"),
        (None, 0, "--token-file {path}: cannot read it: No such file or directory"),
    ],
)
def test_a_bad_token_file_is_a_clear_error(
    project: Path, tmp_path: Path, content: str | None, age_s: int, message: str
):
    path = tmp_path / "token.txt"
    if content is not None:
        path.write_text(content)
        then = time.time() - age_s
        os.utime(path, (then, then))
    done = _invoke(project, _env(), "tok", "--token-file", str(path))
    assert done.returncode == 2
    assert f"handlerlens: {message.format(path=path)}" in done.stderr.decode()
    assert done.stdout == b""


def test_yc_failing_or_missing_leaves_the_token_none_and_says_so(
    project: Path, fake_yc: Path, tmp_path: Path
):
    failing = _env(fake_yc, FAKE_YC_FAIL="1", FAKE_YC_CALLS=str(tmp_path / "calls"))
    done = _invoke(project, failing, "tok")
    assert _answer(done)["token"] is None  # still served
    assert (
        f"handlerlens: warning: `yc iam create-token` ({fake_yc}/yc) failed: ERROR: the current "
        "profile has no token; context.token is None for tok"
    ) in done.stderr.decode()
    missing = _invoke(project, _env(), "tok")
    assert _answer(missing)["token"] is None
    assert (
        "handlerlens: tok: a service account is declared, but no IAM token was found"
    ) in missing.stderr.decode()


def test_yc_scripts_and_serverless_declare_service_accounts(tmp_path: Path):
    root = tmp_path / "project"
    root.mkdir()
    (root / "main.py").write_text(HANDLER)
    (root / "deploy.sh").write_text(
        "yc serverless function version create --function-name with-sa --runtime python312 \\\n"
        "  --entrypoint main.handler --memory 128m --execution-timeout 3s --source-path . \\\n"
        "  --service-account-id aje0000000000000000\n"
        "yc serverless function version create --function-name without-sa \\\n"
        "  --runtime python312 --entrypoint main.handler --source-path .\n"
    )
    env = _env(HANDLERLENS_YC_TOKEN="t1.env")
    assert _answer(_invoke(root, env, "with-sa"))["token"]["access_token"] == "t1.env"
    assert _answer(_invoke(root, env, "without-sa"))["token"] is None
    (root / "deploy.sh").unlink()
    (root / "serverless.yml").write_text(
        "service: s\nprovider:\n  name: yandex-cloud\n  runtime: python312\n"
        "functions:\n  with-sa:\n    handler: main.handler\n    account: runner-sa\n"
        "  without-sa:\n    handler: main.handler\n"
    )
    assert _answer(_invoke(root, env, "with-sa"))["token"]["access_token"] == "t1.env"
    assert _answer(_invoke(root, env, "without-sa"))["token"] is None


def test_served_workers_get_a_refreshed_token(project: Path, tmp_path: Path):
    token_file = tmp_path / "token.txt"
    token_file.write_text("t1.first\n")
    env = _env(HANDLERLENS_TOKEN_CHECK_S="0.2")
    runner = Runner(["tok", "--no-watch", "--token-file", str(token_file)], project, env)
    try:
        runner.wait_stderr(f"tok: context.token from --token-file {token_file}")
        status, _, body = runner.request("POST", "/?integration=raw", b"{}")
        assert status == 200, body
        assert json.loads(body)["token"]["access_token"] == "t1.first"
        # The developer writes a new token (yc iam create-token > FILE): the running worker
        # gets it with its next call, and the runner says so.
        token_file.write_text("t1.second\n")
        later = time.time() + 5
        os.utime(token_file, (later, later))
        runner.wait_stderr("IAM token refreshed from --token-file")
        status, _, body = runner.request("POST", "/?integration=raw", b"{}")
        assert json.loads(body)["token"]["access_token"] == "t1.second"
    finally:
        runner.stop()


def test_a_yc_token_is_taken_again_before_it_expires(fake_yc: Path, tmp_path: Path):
    # The keeper itself, with the fake yc run for real: an hour-old yc token is taken again
    # (Yandex: refresh about hourly), and the file the workers read changes with it.
    from handlerlens.runner import yc_token

    calls = tmp_path / "calls"
    env = _env(fake_yc, FAKE_YC_CALLS=str(calls))
    now = time.time()
    first = yc_token.find_token(None, env, now)
    assert first is not None and first.value == "t1.yc-1"
    keeper = yc_token.TokenKeeper(None, env, first)
    try:
        assert keeper.refresh(now + 60) is None  # fresh: not taken again
        said = keeper.refresh(now + 3600)
        assert said == f"IAM token refreshed from `yc iam create-token` ({fake_yc}/yc)"
        stored = json.loads(Path(keeper.path).read_text())
        assert stored["access_token"] == "t1.yc-2"
        assert stored["expires_at"] == pytest.approx(now + 3600 + 12 * 3600)
        assert oct(os.stat(keeper.path).st_mode & 0o777) == "0o600"
    finally:
        keeper.close()
    assert not Path(keeper.folder).exists()


async def test_the_editors_runner_gives_the_token_too(project: Path, monkeypatch):
    # The language server serves a declared function as name=entry (runner/client.py) and
    # passes its declaring file on: the service account is seen there too.
    from handlerlens.project import discover
    from handlerlens.runner.client import RunnerProcess

    monkeypatch.setenv("HANDLERLENS_YC_TOKEN", "t1.editor")
    (spec,) = [s for s in discover(str(project)).functions if s.name == "tok"]
    runner = await RunnerProcess.start(spec, root=spec.root, platform=None, watch=False)
    try:
        result = await runner.invoke({}, "tok")
        assert result.json["token"]["access_token"] == "t1.editor", result.json
        assert result.json["token"]["token_type"] == "Bearer"
    finally:
        await runner.stop()
