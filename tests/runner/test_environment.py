"""The execution environment as deployed (issue #18): environment variables, packages,
interpreter, read-only code, credentials. Every check runs the real CLI in a subprocess
(`invoke`, which forks a worker) or a real runner over HTTP (`serve`, which spawns workers),
and names the reference it checks against: PLATFORMS.md (the team's platform notes, the
sections given) and the platform source or doc that section cites."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.runner.harness import Runner

# The variables a developer's shell has that a deployed function never sees.
HOST_ONLY = {
    "HOME": "/home/developer",
    "SHELL": "/bin/zsh",
    "PIP_INDEX_URL": "https://pypi.example/simple",
    "DATABASE_URL": "postgres://localhost/dev",
    "AWS_PROFILE": "developer",
    "VIRTUAL_ENV": "/somewhere/.venv",
}

DUMP = """\
import os
import sys


def handler(event, context):
    found = {}
    for name in ("yaml", "pygls", "attrs", "handlerlens", "debugpy"):
        try:
            __import__(name)
            found[name] = "imported"
        except ImportError as exc:
            found[name] = str(exc)
    return {
        "env": dict(os.environ),
        "argv": sys.argv,
        "path": sys.path,
        "executable": sys.executable,
        "prefix": sys.prefix,
        "imports": found,
    }
"""

WRITER = """\
import os


def handler(event, context):
    done = {}
    attempts = {
        "open_w": lambda: open("out.txt", "w").close(),
        "open_a": lambda: open("main.py", "a").close(),
        "mkdir": lambda: os.mkdir("made"),
        "remove": lambda: os.remove("main.py"),
        "rename": lambda: os.rename("main.py", "moved.py"),
        "read": lambda: open("main.py").read(),
        "tmp": lambda: open("/tmp/handlerlens-env-test-%d" % os.getpid(), "w").close(),
    }
    for name, attempt in attempts.items():
        try:
            attempt()
            done[name] = "ok"
        except OSError as exc:
            done[name] = [exc.errno, exc.strerror, str(exc)]
    return done
"""


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HOST_ONLY)
    env.update(extra)
    return env


def _invoke(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "handlerlens.runner", "invoke", *args, "--event", "-"],
        cwd=root,
        input=b"{}",
        capture_output=True,
        env=env or _env(),
        timeout=120,
    )


def _answer(done: subprocess.CompletedProcess[bytes]) -> Any:
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


@pytest.fixture
def dump(tmp_path: Path) -> Path:
    root = tmp_path / "fn"
    root.mkdir()
    (root / "main.py").write_text(DUMP)
    return root


# PLATFORMS.md §12.1, AWS table (DG configuration-envvars.md): what Lambda sets for a zip
# function, less _X_AMZN_TRACE_ID (set per invocation, with tracing only), AWS_LAMBDA_RUNTIME_API
# and LAMBDA_RUNTIME_DIR (no Runtime API here) and PYTHONPATH (the runtime's own folder);
# AWS_DEFAULT_REGION as SAM local adds it; PYTHONUNBUFFERED as the runtime's output is.
AWS_NAMES = {
    "_HANDLER",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_TIMEOUT",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "LAMBDA_TASK_ROOT",
    "LANG",
    "PATH",
    "LD_LIBRARY_PATH",
    "TZ",
    "PYTHONUNBUFFERED",
}
# PLATFORMS.md §12.1, Yandex (YC environment-variables.md; a Node.js instance's dump):
# _HANDLER, LAMBDA_TASK_ROOT, PATH, LD_LIBRARY_PATH are the runtime's.
YANDEX_NAMES = {"_HANDLER", "LAMBDA_TASK_ROOT", "PATH", "LD_LIBRARY_PATH", "PYTHONUNBUFFERED"}


def _check_environment(answer: dict[str, Any], root: Path, platform: str) -> None:
    env = answer["env"]
    # §12.1: "Nothing else exists: the deploying machine's environment is never carried
    # over" — the platform's variables plus the declared one (FROM_CLI), nothing else.
    expected = (AWS_NAMES if platform == "aws" else YANDEX_NAMES) | {"FROM_CLI"}
    assert set(env) == expected
    for name in HOST_ONLY:
        assert name not in env
    assert env["FROM_CLI"] == "yes"
    if platform == "aws":
        # §12.1: LANG=en_US.UTF-8, TZ=UTC; PATH the system's folders (the platform's
        # /usr/local/bin:/usr/bin/:/bin), never the CLI's bin/ (§ issue #18).
        assert env["LANG"] == "en_US.UTF-8" and env["TZ"] == "UTC"
        assert env["PATH"].split(":") == ["/usr/local/bin", "/usr/bin", "/bin"]
        # §12.1: LD_LIBRARY_PATH includes $LAMBDA_TASK_ROOT:$LAMBDA_TASK_ROOT/lib.
        assert env["LD_LIBRARY_PATH"] == f"{root}:{root}/lib"
        # §12.2, SAM env_vars.py `_DEFAULT_AWS_CREDS`: placeholders when no credentials
        # are given; never the developer's AWS_PROFILE for boto3 to follow.
        assert env["AWS_ACCESS_KEY_ID"] == env["AWS_ACCESS_KEY"] == "defaultkey"
        assert env["AWS_SECRET_ACCESS_KEY"] == "defaultsecret"
    else:
        # §12.1 Yandex: PATH=/function/code:…:/usr/bin:/usr/local/bin:/sbin:/bin, the code
        # root first; LD_LIBRARY_PATH=/function/code/shared-libs:….
        assert env["PATH"].split(":") == [str(root), "/usr/bin", "/usr/local/bin", "/sbin", "/bin"]
        assert env["LD_LIBRARY_PATH"] == f"{root}/shared-libs"
    bin_dir = os.path.dirname(sys.executable)
    assert bin_dir not in env["PATH"].split(":")


def _check_packages(answer: dict[str, Any]) -> None:
    # §11.2 "Runtime-provided packages": only the interpreter and the AWS SDK; HandlerLens's
    # dependencies are not the function's (its interpreter here is HandlerLens's own: the
    # test project has no .venv), nor is HandlerLens itself.
    for name in ("yaml", "pygls", "attrs", "handlerlens", "debugpy"):
        assert answer["imports"][name] == f"No module named '{name}'"
    assert not [p for p in answer["path"] if "site-packages" in p]
    # The Lambda runtime runs `python3 /var/runtime/bootstrap.py` (the serverless SDK's
    # exec_wrapper.py documents the command): one item, the bootstrap script.
    assert len(answer["argv"]) == 1 and answer["argv"][0].endswith("worker/__main__.py")


@pytest.mark.parametrize("platform", ["aws", "yandex"])
def test_invoke_gives_the_platforms_environment_and_packages_only(dump: Path, platform: str):
    answer = _answer(_invoke(dump, "main.handler", "--platform", platform, "--env", "FROM_CLI=yes"))
    _check_environment(answer, dump, platform)
    _check_packages(answer)


@pytest.mark.parametrize("platform", ["aws", "yandex"])
def test_served_workers_get_the_platforms_environment_and_packages_only(dump: Path, platform: str):
    runner = Runner(
        ["main.handler", "--platform", platform, "--no-watch", "--env", "FROM_CLI=yes"],
        dump,
        _env(),
    )
    try:
        if platform == "aws":
            status, _, body = runner.request(
                "POST", "/2015-03-31/functions/function/invocations", b"{}"
            )
            answer = json.loads(body)
        else:
            status, _, body = runner.request("POST", "/?integration=raw", b"{}")
            answer = json.loads(body)
        assert status == 200, body
        # The X-Ray header of the invocation (§12.1 `_X_AMZN_TRACE_ID`), per request.
        answer["env"].pop("_X_AMZN_TRACE_ID", None)
        _check_environment(answer, dump, platform)
        _check_packages(answer)
        # The interpreter choice is data for the editor too (--status-json).
        chosen = runner.wait_for(lambda e: e["event"] == "interpreter")
        assert chosen["source"] == "handlerlens" and chosen["isolated"] is True
    finally:
        runner.stop()


def test_declared_variables_reach_the_function_and_reserved_ones_win(tmp_path: Path):
    root = tmp_path / "fn"
    root.mkdir()
    (root / "main.py").write_text(DUMP)
    # A SAM function's Environment.Variables are its own (§12.1 "The function's own variables
    # come on top"); _HANDLER and AWS_LAMBDA_FUNCTION_NAME are reserved (§12.1, "yes").
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Dump:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n      Handler: main.handler\n"
        "      CodeUri: fn/\n      Runtime: python3.11\n      Environment:\n        Variables:\n"
        "          TABLE: orders\n          _HANDLER: mine.handler\n"
        "          AWS_LAMBDA_FUNCTION_NAME: mine\n          TZ: Europe/Berlin\n"
    )
    answer = _answer(_invoke(tmp_path, "Dump"))
    env = answer["env"]
    assert env["TABLE"] == "orders"
    assert env["_HANDLER"] == "main.handler" and env["AWS_LAMBDA_FUNCTION_NAME"] == "Dump"
    # TZ, LANG, PATH are set by Lambda but not reserved (§12.1, "no"): a declared one wins.
    assert env["TZ"] == "Europe/Berlin"
    # §12.3 / API_CreateFunction.md: a declared function without MemorySize has 128 MB.
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"


def test_inherit_env_passes_named_host_variables(dump: Path):
    # PLATFORMS.md §12.1 (Rec.): "A setting can pass named host variables through."
    done = _invoke(
        dump,
        "main.handler",
        "--platform",
        "yandex",
        "--inherit-env",
        "DATABASE_URL",
        "--inherit-env",
        "PIP_*",
    )
    env = _answer(done)["env"]
    assert env["DATABASE_URL"] == HOST_ONLY["DATABASE_URL"]
    assert env["PIP_INDEX_URL"] == HOST_ONLY["PIP_INDEX_URL"]
    assert "HOME" not in env and "SHELL" not in env
    bad = _invoke(dump, "main.handler", "--inherit-env", "NOT A NAME")
    assert bad.returncode == 2
    assert "--inherit-env 'NOT A NAME': expected variable names" in bad.stderr.decode()


def test_a_missing_package_is_runtime_import_module_error(tmp_path: Path):
    (tmp_path / "main.py").write_text(
        "import yaml\n\n\ndef handler(event, context):\n    return 1\n"
    )
    done = _invoke(tmp_path, "main.handler", "--platform", "aws")
    assert done.returncode == 1
    error = json.loads(done.stdout)
    # PLATFORMS.md §11.2 "Missing package" (ric bootstrap.py `_get_handler`): the import
    # error of a package the function did not bring, even though HandlerLens has PyYAML.
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == "Unable to import module 'main': No module named 'yaml'"


def _make_venv(where: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120
    )
    site = next(where.glob("lib/python3.*/site-packages"))
    (site / "venv_only.py").write_text("VALUE = 'from the venv'\n")
    return where


def test_the_projects_venv_runs_the_function_with_its_packages(dump: Path):
    venv = _make_venv(dump / ".venv")
    (dump / "main.py").write_text(DUMP.replace("for name in (", "for name in ('venv_only', "))
    answer = _answer(_invoke(dump, "main.handler", "--platform", "aws", "--env", "FROM_CLI=y"))
    # Issue #18 "Which interpreter": a .venv in the code root is the function's interpreter,
    # its site-packages its installed requirements.
    assert os.path.realpath(answer["prefix"]) == os.path.realpath(venv)
    assert answer["imports"]["venv_only"] == "imported"
    assert answer["imports"]["yaml"] == "No module named 'yaml'"
    # Its bin/ is first on PATH, where the runtime's /var/lang/bin is (§12.1).
    assert answer["env"]["PATH"].split(":")[0] == str(venv / "bin")


def test_a_runtime_no_interpreter_matches_is_warned_about(tmp_path: Path):
    root = tmp_path / "fn"
    root.mkdir()
    (root / "main.py").write_text(DUMP)
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Dump:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n      Handler: main.handler\n"
        "      CodeUri: fn/\n      Runtime: python3.99\n"
    )
    done = _invoke(tmp_path, "Dump", env=_env(PYENV_ROOT=str(tmp_path / "no-pyenv")))
    _answer(done)
    minor = sys.version_info.minor
    assert (
        f"handlerlens: warning: runtime python3.99 declared; running on 3.{minor} "
        "(the interpreter running handlerlens)" in done.stderr.decode()
    )


def test_a_declared_runtime_finds_that_python(tmp_path: Path):
    # `python3.X` on PATH or installed by pyenv; skipped where this machine has neither.
    other = 12 if sys.version_info[:2] != (3, 12) else 11
    from handlerlens.deploy.interpreter import _runtime_python

    found = _runtime_python((3, other))
    if found is None:
        pytest.skip(f"no python3.{other} on this machine")
    root = tmp_path / "fn"
    root.mkdir()
    (root / "main.py").write_text(DUMP)
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Dump:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n      Handler: main.handler\n"
        f"      CodeUri: fn/\n      Runtime: python3.{other}\n"
    )
    done = _invoke(tmp_path, "Dump")
    answer = _answer(done)
    assert os.path.realpath(answer["executable"]) == os.path.realpath(found)
    assert answer["env"]["AWS_EXECUTION_ENV"] == f"AWS_Lambda_python3.{other}"
    assert "warning" not in done.stderr.decode()


def test_an_interpreter_that_is_not_python_is_a_clear_error(dump: Path):
    done = _invoke(dump, "main.handler", "--python", "/bin/ls")
    assert done.returncode == 2
    assert "--python /bin/ls is not a Python 3 interpreter" in done.stderr.decode()
    done = _invoke(dump, "main.handler", "--python", str(dump / "nowhere" / "python3"))
    assert done.returncode == 2
    assert "Python interpreter not found" in done.stderr.decode()


@pytest.mark.parametrize("platform", ["aws", "yandex"])
def test_writes_to_the_code_root_fail_as_deployed(tmp_path: Path, platform: str):
    (tmp_path / "main.py").write_text(WRITER)
    done = _invoke(tmp_path, "main.handler", "--platform", platform)
    answer = _answer(done)
    # PLATFORMS.md §12.3: the code directory is read-only (AWS DG images-create.md; Yandex's
    # /function/code a read-only squashfs), /tmp writable: errno 30, EROFS.
    for name in ("open_w", "open_a", "mkdir", "remove", "rename"):
        assert answer[name][:2] == [errno.EROFS, "Read-only file system"], name
    assert answer["read"] == "ok" and answer["tmp"] == "ok"
    assert (tmp_path / "main.py").exists() and not (tmp_path / "out.txt").exists()
    assert not (tmp_path / "made").exists()
    log = done.stderr.decode()
    assert (
        f"handlerlens: open {tmp_path / 'out.txt'}: Read-only file system. This write would " in log
    )
    assert "--writable allows it here" in log
    # --writable: the developer's folder, as before.
    answer = _answer(_invoke(tmp_path, "main.handler", "--platform", platform, "--writable"))
    assert answer["open_w"] == "ok" and answer["mkdir"] == "ok"
    assert (tmp_path / "out.txt").exists() and (tmp_path / "made").is_dir()


def test_served_workers_have_read_only_code_too(tmp_path: Path):
    (tmp_path / "main.py").write_text(WRITER)
    runner = Runner(["main.handler", "--platform", "aws", "--no-watch"], tmp_path, _env())
    try:
        status, _, body = runner.request(
            "POST", "/2015-03-31/functions/function/invocations", b"{}"
        )
        assert status == 200, body
        assert json.loads(body)["open_w"][:2] == [errno.EROFS, "Read-only file system"]
        runner.wait_stderr("This write would fail deployed on AWS Lambda")
    finally:
        runner.stop()


def test_profile_keys_reach_the_function(dump: Path, tmp_path: Path):
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = s0\n"
        "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = s1\n"
        "aws_session_token = t1\n"
    )
    config = tmp_path / "config"
    config.write_text("[profile sso]\nsso_session = corp\nregion = eu-west-1\n")
    env = _env(AWS_SHARED_CREDENTIALS_FILE=str(credentials), AWS_CONFIG_FILE=str(config))
    done = _invoke(dump, "main.handler", "--platform", "aws", "--profile", "dev", env=env)
    answer = _answer(done)
    # PLATFORMS.md §12.2, SAM local_lambda.py `get_aws_creds`: the caller's resolved
    # credentials, the session token when there is one.
    assert answer["env"]["AWS_ACCESS_KEY_ID"] == "AKIADEV"
    assert answer["env"]["AWS_SECRET_ACCESS_KEY"] == "s1"
    assert answer["env"]["AWS_SESSION_TOKEN"] == "t1"
    assert "AWS functions get the keys of profile 'dev'" in done.stderr.decode()
    # Bad input: a profile that does not exist, one without static keys.
    done = _invoke(dump, "main.handler", "--platform", "aws", "--profile", "nope", env=env)
    assert done.returncode == 2
    assert (
        f"--profile nope: no such profile in {credentials} or {config} "
        "(profiles: default, dev, sso)" in done.stderr.decode()
    )
    done = _invoke(dump, "main.handler", "--platform", "aws", "--profile", "sso", env=env)
    assert done.returncode == 2
    assert "has no aws_access_key_id and aws_secret_access_key (it uses sso_session)" in (
        done.stderr.decode()
    )


def test_sam_env_vars_and_a_dotenv_file(tmp_path: Path):
    root = tmp_path / "fn"
    root.mkdir()
    (root / "main.py").write_text(DUMP)
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Dump:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n      Handler: main.handler\n"
        "      CodeUri: fn/\n      Runtime: python3.11\n      Environment:\n        Variables:\n"
        "          TABLE: orders\n          STAGE: dev\n          DEBUG: 'no'\n"
    )
    (tmp_path / "env.json").write_text(
        json.dumps(
            {
                "Parameters": {"STAGE": "prod", "UNDECLARED": "x"},
                "Dump": {"TABLE": "orders-test", "DEBUG": True, "EXTRA": "y"},
                "Other": {"A": "b"},
            }
        )
    )
    (tmp_path / ".env").write_text(
        '# local settings\nexport FROM_FILE="a quoted value"\nPLAIN=x # a comment\n\n'
        "STAGE=from-dotenv\n"
    )
    done = _invoke(
        tmp_path, "Dump", "--env-vars", "env.json", "--env-file", ".env", "--env", "PLAIN=cli"
    )
    env = _answer(done)["env"]
    # SAM env_vars.py `resolve`: --env-vars overrides declared variables only, Parameters
    # first, then the function's own section; booleans become "true"/"false".
    assert env["TABLE"] == "orders-test" and env["DEBUG"] == "true"
    assert "UNDECLARED" not in env and "EXTRA" not in env
    # The dotenv file applies to every function, over the declaration; --env wins.
    assert env["STAGE"] == "from-dotenv"
    assert env["FROM_FILE"] == "a quoted value" and env["PLAIN"] == "cli"
    log = done.stderr.decode()
    assert "--env-vars env.json: Dump declares no variable EXTRA" in log
    assert "--env-vars env.json: no function is named 'Other' (declared: Dump); not used" in log


@pytest.mark.parametrize(
    ("option", "text", "message"),
    [
        ("--env-file", "GOOD=1\nNO EQUALS SIGN\n", "--env-file {path}:2: expected NAME=value"),
        ("--env-file", "1BAD=x\n", "--env-file {path}:1: '1BAD' is not a variable name"),
        ("--env-vars", '{"Parameters": ', "--env-vars {path}: not valid JSON"),
        ("--env-vars", '["a"]', "--env-vars {path}: expected an object like"),
        ("--env-vars", '{"F": {"A": {"b": 1}}}', "--env-vars {path}: F.A: a variable's value"),
    ],
)
def test_a_bad_environment_file_is_named_with_the_reason(
    dump: Path, option: str, text: str, message: str
):
    path = dump / "settings.txt"
    path.write_text(text)
    done = _invoke(dump, "main.handler", option, "settings.txt")
    assert done.returncode == 2
    assert f"handlerlens: {message.format(path='settings.txt')}" in done.stderr.decode()


async def test_the_editors_runner_says_which_interpreter_and_warns(tmp_path: Path, monkeypatch):
    # The language server's runner (RunnerProcess, `serve` as name=entry) gets the declared
    # runtime, so the warning of issue #18 ("in the terminal and in the editor") reaches it.
    from handlerlens.project import discover
    from handlerlens.runner.client import RunnerProcess

    root = tmp_path / "fn"
    root.mkdir()
    (root / "main.py").write_text(DUMP)
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Dump:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n      Handler: main.handler\n"
        "      CodeUri: fn/\n      Runtime: python3.99\n"
    )
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    (spec,) = discover(str(tmp_path)).functions
    runner = await RunnerProcess.start(spec, root=spec.root, platform=None, watch=False)
    try:
        assert runner.interpreter is not None
        minor = sys.version_info.minor
        assert runner.interpreter["warning"] == f"runtime python3.99 declared; running on 3.{minor}"
        assert runner.interpreter["source"] == "handlerlens"
        result = await runner.invoke({}, "Dump")
        # §12.1 AWS_EXECUTION_ENV `AWS_Lambda_python3.12`: the declared runtime's name; a
        # declared SAM function's memory is 128 MB (§12.3).
        assert result.json["env"]["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.99"
        assert result.json["env"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    finally:
        await runner.stop()


def test_under_the_extensions_bundle_the_interpreter_is_the_users(dump: Path, tmp_path: Path):
    # The VS Code extension runs HandlerLens on the user's interpreter, our libraries in a
    # bundle on PYTHONPATH (HANDLERLENS_BUNDLED_LIBS names it): that interpreter's packages
    # are the user's and stay; only the bundle is left out (test_bundle_isolation.py).
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (dump / "main.py").write_text(DUMP.replace("for name in (", "for name in ('pytest', "))
    env = _env(PYTHONPATH=str(bundle), HANDLERLENS_BUNDLED_LIBS=str(bundle))
    runner = Runner(["main.handler", "--platform", "aws", "--no-watch"], dump, env)
    try:
        status, _, body = runner.request(
            "POST", "/2015-03-31/functions/function/invocations", b"{}"
        )
        assert status == 200, body
        assert json.loads(body)["imports"]["pytest"] == "imported"
        chosen = runner.wait_for(lambda e: e["event"] == "interpreter")
        assert chosen["source"] == "editor" and chosen["isolated"] is False
    finally:
        runner.stop()


def test_the_interpreter_set_in_pyproject(dump: Path, tmp_path: Path):
    venv = _make_venv(tmp_path / "elsewhere")
    (dump / "pyproject.toml").write_text(
        f'[tool.handlerlens]\npython = "{venv / "bin" / "python"}"\n'
    )
    answer = _answer(_invoke(dump, "main.handler", "--platform", "aws"))
    assert os.path.realpath(answer["prefix"]) == os.path.realpath(venv)
    # --python wins over it.
    answer = _answer(_invoke(dump, "main.handler", "--python", sys.executable))
    assert os.path.realpath(answer["prefix"]) == os.path.realpath(sys.prefix)
    # A setting that names no interpreter says where it is set.
    (dump / "pyproject.toml").write_text('[tool.handlerlens]\npython = "no/such/python"\n')
    done = _invoke(dump, "main.handler")
    assert done.returncode == 2
    assert (
        f"Python interpreter not found: no/such/python (python = 'no/such/python' in "
        f"{dump / 'pyproject.toml'}: no such file)" in done.stderr.decode()
    )
