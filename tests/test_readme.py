"""README.md runs as written: every shell block in it, for real, against a copy of `examples/`.

The rules (README's "Development" section says the same to whoever edits it):

- a ```bash block runs with bash (`-e -o pipefail`) from the root of a temporary folder that
  holds a copy of the repository's `examples/` and a `.venv` link to the venv running these
  tests, whose `bin/` is on PATH (as after `source .venv/bin/activate`); it must exit 0;
- a ```text block right after a ```bash block (blank lines only between) lists lines the
  block's output (stdout, then stderr) must contain; `…` in such a line stands for anything;
- a ```text block whose first line starts with `$ ` is a transcript: each `$ ` command runs,
  and its stdout must be exactly the lines that follow it;
- a ```toml block is a `pyproject.toml`: `handlerlens check` in a folder holding only it must
  find functions and report nothing but their missing code (no modules, no code root there),
  so README never shows a setting HandlerLens warns about;
- an HTML comment right before a block, `<!-- readme-test: RULE (why) -->`, says what the test
  does instead: `make -n` (the block's `make …` lines are dry-run in the checkout, so the
  target must exist and its recipe parse; its other lines run as usual), `server` (the block
  runs in the background until it listens, the next ```bash block runs against it, then it is
  stopped with SIGINT, as Ctrl-C stops it, and must end, workers and all), `exit N` (the block
  or transcript must exit with N), `usage` (a ```text synopsis: every option and choice in it
  must appear in the command's `--help`);
- a shell block that runs `make` without the `make -n` rule, an unknown rule, or a rule that
  is not right before a block fails the test: nothing in README goes untested by accident.

The README's port 8080 becomes a free port here, so the test never collides with a server
someone already runs on 8080.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
VENV_BIN = Path(sys.prefix) / "bin"
SHELL_LANGS = {"bash", "sh", "shell", "zsh"}
README_PORT = "8080"

_FENCE = re.compile(r"^ {0,3}```\s*([\w+-]*)\s*$")
_MARKER = re.compile(r"^\s*<!--\s*readme-test:\s*(.*?)\s*-->\s*$")
_RULE = re.compile(r"^(make -n|server|usage|exit (\d+))(?:\s|$)")
_MAKE_LINE = re.compile(r"(?:^|[;&|]\s*)make\b")


class ReadmeError(Exception):
    """README.md breaks the doc-test's rules (see the module docstring)."""


@dataclass(repr=False)
class Block:
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    rule: str | None = None  # "make -n", "server", "usage" or "exit"
    exit_status: int = 0
    output: Block | None = None  # the ```text block right after a shell block
    client: Block | None = None  # for `server`: the block that runs against it

    @property
    def where(self) -> str:
        return f"README.md:{self.line}"

    def __repr__(self) -> str:  # short in assertion messages
        return f"<```{self.lang} block at {self.where}>"


@dataclass
class Plan:
    runs: list[Block] = field(default_factory=list)  # shell blocks (servers carry their client)
    transcripts: list[Block] = field(default_factory=list)
    usages: list[Block] = field(default_factory=list)
    configs: list[Block] = field(default_factory=list)


def parse_blocks(markdown: str) -> list[Block]:
    """Fenced blocks in order, each with the readme-test rule written right before it."""
    blocks: list[Block] = []
    lines = markdown.splitlines()
    marker: tuple[int, str] | None = None
    after_shell = False  # only blank lines since the last shell block closed
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        found = _MARKER.match(line)
        if found:
            if marker is not None:
                raise ReadmeError(f"README.md:{marker[0]}: readme-test marker before no block")
            marker = (i + 1, found.group(1))
        elif fence:
            start = i
            i += 1
            body = []
            while i < len(lines) and not re.match(r"^ {0,3}```\s*$", lines[i]):
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise ReadmeError(f"README.md:{start + 1}: the ``` block is never closed")
            block = Block(line=start + 1, lang=fence.group(1).lower(), text="\n".join(body))
            if marker is not None:
                _apply_rule(block, marker)
                marker = None
            elif block.lang == "text" and after_shell and blocks:
                blocks[-1].output = block
                after_shell = False
                i += 1
                continue
            blocks.append(block)
            after_shell = block.lang in SHELL_LANGS
        elif line.strip():
            if marker is not None:
                raise ReadmeError(f"README.md:{marker[0]}: readme-test marker before no block")
            after_shell = False
        i += 1
    if marker is not None:
        raise ReadmeError(f"README.md:{marker[0]}: readme-test marker before no block")
    return blocks


def _apply_rule(block: Block, marker: tuple[int, str]) -> None:
    found = _RULE.match(marker[1])
    if found is None:
        raise ReadmeError(
            f"README.md:{marker[0]}: unknown readme-test rule {marker[1]!r} "
            "(known: make -n, server, usage, exit N)"
        )
    if found.group(2) is not None:
        block.rule, block.exit_status = "exit", int(found.group(2))
    else:
        block.rule = found.group(1)


def make_plan(markdown: str) -> Plan:
    """What the test runs for each block; ReadmeError for a block it cannot account for."""
    plan = Plan()
    blocks = parse_blocks(markdown)
    pending_server: Block | None = None
    for block in blocks:
        if block.lang == "console":
            raise ReadmeError(
                f"{block.where}: a ```console block is not run; write commands as ```bash, "
                "or a ```text transcript whose commands start with `$ `"
            )
        if block.lang in SHELL_LANGS:
            if block.rule == "usage":
                raise ReadmeError(f"{block.where}: `usage` is for a ```text synopsis")
            if block.rule != "make -n" and any(_MAKE_LINE.search(c) for c in _commands(block)):
                raise ReadmeError(
                    f"{block.where}: runs make; the test cannot run make targets, so say so: "
                    "<!-- readme-test: make -n (why) --> right before the block"
                )
            if pending_server is not None:
                if block.rule == "server":
                    raise ReadmeError(f"{block.where}: a server right after a server")
                pending_server.client = block
                pending_server = None
                continue
            if block.rule == "server":
                pending_server = block
            plan.runs.append(block)
        elif block.lang == "text" and block.text.startswith("$ "):
            if block.rule not in (None, "exit"):
                raise ReadmeError(f"{block.where}: a transcript takes only `exit N`")
            plan.transcripts.append(block)
        elif block.rule == "usage" and block.lang == "text":
            plan.usages.append(block)
        elif block.lang == "toml":
            if block.rule is not None:
                raise ReadmeError(f"{block.where}: a ```toml block takes no rule")
            plan.configs.append(block)
        elif block.rule is not None:
            raise ReadmeError(f"{block.where}: rule {block.rule!r} on a ```{block.lang} block")
    if pending_server is not None:
        raise ReadmeError(f"{pending_server.where}: a server block with no block after it")
    return plan


def _commands(block: Block) -> list[str]:
    """The block's command lines, comments and blank lines left out."""
    out = []
    for line in block.text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            out.append(line)
    return out


def missing_output(expected: Block, stdout: str, stderr: str) -> list[str]:
    """The expected lines (`…` = anything) that the output does not contain."""
    seen = f"{stdout}\n{stderr}"
    missing = []
    for line in expected.text.splitlines():
        if not line.strip():
            continue
        pattern = ".*?".join(re.escape(part) for part in line.strip().split("…"))
        if re.search(pattern, seen) is None:
            missing.append(line)
    return missing


# --- running the blocks ------------------------------------------------------------------


def _load_plan() -> Plan:
    try:
        return make_plan(README.read_text(encoding="utf-8"))
    except ReadmeError:
        return Plan()  # test_readme_follows_the_rules reports it


PLAN = _load_plan()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copytree(
        REPO / "examples", root / "examples", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return root


@pytest.fixture
def env() -> dict[str, str]:
    assert (VENV_BIN / "handlerlens").exists(), f"no handlerlens in {VENV_BIN}: run make venv"
    out = dict(os.environ)
    out["PATH"] = f"{VENV_BIN}{os.pathsep}{out.get('PATH', '')}"
    out.pop("PYTHONPATH", None)
    return out


def _script(block: Block, port: int) -> str:
    lines = []
    for line in block.text.splitlines():
        if block.rule == "make -n" and re.match(r"^\s*make\b", line):
            continue  # dry-run separately, in the checkout
        lines.append(re.sub(rf"\b{README_PORT}\b", str(port), line))
    return "\n".join(lines) + "\n"


def _run(block: Block, cwd: Path, env: dict[str, str], port: int) -> None:
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", _script(block, port)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    said = f"\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == block.exit_status, (
        f"{block.where}: exit status {result.returncode}, README expects {block.exit_status}{said}"
    )
    if block.output is not None:
        missing = missing_output(block.output, result.stdout, result.stderr)
        assert not missing, f"{block.output.where}: output lacks {missing}{said}"


def _dry_run_make(block: Block, env: dict[str, str]) -> int:
    count = 0
    for line in _commands(block):
        words = shlex.split(line, comments=True)
        if not words or words[0] != "make":
            continue
        assert len(words) > 1, f"{block.where}: `make` with no target"
        result = subprocess.run(
            ["make", "-n", *words[1:]],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, f"{block.where}: `make -n {words[1:]}`: {result.stderr}"
        count += 1
    return count


def _listens(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _serve(block: Block, cwd: Path, env: dict[str, str], port: int, log: Path) -> None:
    assert block.client is not None
    with log.open("wb") as out:
        server = subprocess.Popen(
            ["bash", "-e", "-o", "pipefail", "-c", _script(block, port)],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while not _listens(port):
            assert server.poll() is None, (
                f"{block.where}: ended with {server.returncode} before listening:\n"
                f"{log.read_text(errors='replace')}"
            )
            assert time.monotonic() < deadline, f"{block.where}: not listening on {port}"
            time.sleep(0.1)
        _run(block.client, cwd, env, port)
        os.killpg(server.pid, signal.SIGINT)  # what Ctrl-C sends to the foreground group
        try:
            status = server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{block.where}: still running 15 s after Ctrl-C (SIGINT)")
        assert status in (0, 130, -signal.SIGINT), (
            f"{block.where}: Ctrl-C ended it with status {status}:\n"
            f"{log.read_text(errors='replace')}"
        )
        deadline = time.monotonic() + 5
        while _group_alive(server.pid):
            assert time.monotonic() < deadline, f"{block.where}: workers outlived the server"
            time.sleep(0.1)
    finally:
        if _group_alive(server.pid):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


def test_readme_follows_the_rules() -> None:
    plan = make_plan(README.read_text(encoding="utf-8"))
    # What README holds today; fewer means blocks stopped being found (a broken fence, say).
    assert len(plan.runs) >= 6, [b.where for b in plan.runs]
    assert sum(b.rule == "make -n" for b in plan.runs) >= 3
    assert sum(b.rule == "server" for b in plan.runs) >= 1
    assert plan.transcripts and plan.usages and plan.configs
    clients = [b.client for b in plan.runs if b.client is not None]
    assert sum(b.output is not None for b in plan.runs + clients) >= 3
    assert README_PORT in "".join(b.text for b in plan.runs if b.rule == "server")


@pytest.mark.parametrize("block", PLAN.runs, ids=[b.where for b in PLAN.runs])
def test_shell_block_runs_as_written(
    block: Block, sandbox: Path, env: dict[str, str], tmp_path: Path
) -> None:
    made = _dry_run_make(block, env) if block.rule == "make -n" else 0
    if block.rule == "make -n":
        assert made, f"{block.where}: marked make -n but runs no make target"
    port = _free_port()
    lines = _script(block, port).splitlines()
    if block.rule == "server":
        _serve(block, sandbox, env, port, tmp_path / "server.log")
    elif any(line.strip() and not line.lstrip().startswith("#") for line in lines):
        _run(block, sandbox, env, port)


@pytest.mark.parametrize("block", PLAN.transcripts, ids=[b.where for b in PLAN.transcripts])
def test_transcript_is_the_real_output(block: Block, sandbox: Path, env: dict[str, str]) -> None:
    steps = re.split(r"^\$ ", block.text, flags=re.M)[1:]
    for step in steps:
        command, _, shown = step.partition("\n")
        result = subprocess.run(
            ["bash", "-c", command],
            cwd=sandbox,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert result.returncode == block.exit_status, (block.where, command, result.stderr)
        assert result.stdout == (shown + "\n" if shown else ""), (
            f"{block.where}: `{command}` prints\n{result.stdout}"
        )


@pytest.mark.parametrize("block", PLAN.usages, ids=[b.where for b in PLAN.usages])
def test_usage_matches_help(block: Block, sandbox: Path, env: dict[str, str]) -> None:
    for synopsis in block.text.splitlines():
        command = shlex.split(synopsis.split("[", 1)[0])
        result = subprocess.run(
            [*command, "--help"], cwd=sandbox, env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        options = re.findall(r"--[\w-]+", synopsis)
        choices = [
            c
            for group in re.findall(r"\s([\w-]+(?:\|[\w-]+)+)", synopsis)
            for c in group.split("|")
        ]
        assert options and choices, f"{block.where}: no options found in {synopsis!r}"
        for word in options + choices:
            assert re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", result.stdout), (
                f"{block.where}: {word!r} is not in `{' '.join(command)} --help`:\n{result.stdout}"
            )


# Problems a pyproject.toml alone in a folder has because the code it names is not there.
MISSING_CODE = {"entry-point-module-missing", "code-root-missing"}


@pytest.mark.parametrize("block", PLAN.configs, ids=[b.where for b in PLAN.configs])
def test_config_block_is_valid(block: Block, tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "pyproject.toml").write_text(block.text + "\n", encoding="utf-8")
    result = subprocess.run(
        ["handlerlens", "check", "--format", "json", "."],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert report["functions"] >= 1, f"{block.where}: declares no function"
    other = [p for p in report["problems"] if p["code"] not in MISSING_CODE]
    assert not other, f"{block.where}: {[(p['line'], p['message']) for p in other]}"


# --- the rules themselves ------------------------------------------------------------------


def test_an_unmarked_make_block_fails() -> None:
    with pytest.raises(ReadmeError, match="runs make"):
        make_plan("Run:\n\n```bash\nmake bench\n```\n")
    assert make_plan("<!-- readme-test: make -n (slow) -->\n```bash\nmake bench\n```\n").runs


def test_markers_must_be_known_and_right_before_a_block() -> None:
    with pytest.raises(ReadmeError, match="unknown readme-test rule"):
        make_plan("<!-- readme-test: skip -->\n```bash\nfalse\n```\n")
    with pytest.raises(ReadmeError, match="before no block"):
        make_plan("<!-- readme-test: exit 1 -->\nSome prose.\n\n```bash\nfalse\n```\n")
    with pytest.raises(ReadmeError, match="no block after it"):
        make_plan("<!-- readme-test: server -->\n```bash\nhandlerlens serve\n```\n")
    with pytest.raises(ReadmeError, match="console"):
        make_plan("```console\n$ ls\n```\n")


def test_a_text_block_right_after_a_shell_block_is_its_output() -> None:
    plan = make_plan("```bash\necho hi\n```\n\n```text\nhi\n```\n\nProse.\n\n```text\nx\n```\n")
    assert len(plan.runs) == 1
    output = plan.runs[0].output
    assert output is not None and output.text == "hi"
    assert missing_output(output, "hi\n", "") == []
    wildcard = Block(line=1, lang="text", text='{"id": "…", "ok": true}')
    assert missing_output(wildcard, '{"id": "42", "ok": true}', "") == []
    assert missing_output(wildcard, '{"id": "42", "ok": false}', "") == [wildcard.text]
