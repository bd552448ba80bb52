"""Characters Python's `str.splitlines` treats as line breaks but LSP and Python source do not.

A form feed (a page break PEP 8 allows), vertical tab, \\x1c-\\x1e, NEL and U+2028/U+2029 end a
line for `str.splitlines` only. Anything that numbers lines with it disagrees with the editor
and with `ast` from that character on: pygls 2.1's documents did, and so did the analysis's
line index. The fuzzer (lsp_text.SPLITLINES_ONLY_BREAKS) draws these characters often.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.reliability.lsp_session import LspSession, build_workspace
from tests.reliability.lsp_text import LspText


async def test_incremental_edit_after_a_form_feed_keeps_the_buffer_in_sync(tmp_path: Path) -> None:
    workspace = build_workspace(tmp_path / "ws")
    main = workspace / "greeter" / "main.py"
    # A form feed is a legal page break in Python source; editors keep it on its line.
    text = "# page one\x0c\n" + main.read_text()
    session = await LspSession.start(workspace, tmp_path, "formfeed")
    try:
        session.open(main, "python", text)
        doc = LspText(text)
        at = text.index("def handler") + len("def ")
        # Rename the handler the Terraform file declares: the entry point no longer resolves.
        session.change(main, [doc.replace(at, at + len("handler"), "handle")])
        await session.barrier()
        codes = {
            str(d.code)
            for d in session.client.diagnostics.get(
                (workspace / "greeter" / "main.tf").as_uri(), []
            )
        }
    finally:
        assert await session.stop() == 0
    assert "entry-point-function-missing" in codes


def _check(root: Path) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "handlerlens", "check", str(root), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    return [
        {k: p[k] for k in ("code", "line", "column", "endLine", "endColumn")}
        for p in json.loads(done.stdout)["problems"]
    ]


def test_a_form_feed_does_not_move_diagnostics(tmp_path: Path) -> None:
    ranges = []
    for name, first_line in (("plain", "x = 1\n"), ("form-feed", "x = 1  \x0c\n")):
        root = tmp_path / name
        root.mkdir()
        (root / "pyproject.toml").write_text('[tool.handlerlens]\nentry = "main.handler"\n')
        (root / "main.py").write_text(first_line + "\ndef handler(event):\n    return 1\n")
        ranges.append(_check(root))
    plain, form_feed = ranges
    assert plain == [
        {"code": "handler-arity", "line": 3, "column": 5, "endLine": 3, "endColumn": 12}
    ]
    assert form_feed == plain
