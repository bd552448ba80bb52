"""Issue #21: a file open when the folder is opened gets its problems (and lenses) from the
declaring files near it before the server reads the rest of the workspace."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types as lsp

from tests.lsp.conftest import open_document, running_server, wait_for_diagnostics

HANDLER = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n"


class Arrivals(dict[str, Sequence[lsp.Diagnostic]]):
    """The client's diagnostics by URI, noting each publish in the order it came."""

    def __init__(self) -> None:
        super().__init__()
        self.order: list[tuple[str, int, float]] = []

    def __setitem__(self, uri: str, diagnostics: Sequence[lsp.Diagnostic]) -> None:
        self.order.append((uri, len(diagnostics), time.perf_counter()))
        super().__setitem__(uri, diagnostics)


def _workspace(root: Path, far_functions: int) -> tuple[Path, Path]:
    """near/app.py with a handler-arity error, declared by near/template.yaml; a_far/ with a
    template of many functions, one of them misspelt. Returns (app.py, a_far/template.yaml)."""
    near = root / "near"
    near.mkdir()
    (near / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Near:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: python3.12, Handler: app.handler}\n"
    )
    app = near / "app.py"
    app.write_text("def handler(event):\n    return 1\n")
    far = root / "a_far"
    resources = []
    for i in range(far_functions):
        code = far / f"fn{i}"
        code.mkdir(parents=True)
        (code / "app.py").write_text(HANDLER)
        handler = "app.handlr" if i == 0 else "app.handler"
        resources.append(
            f"  Fn{i}:\n    Type: AWS::Serverless::Function\n"
            f"    Properties: {{Runtime: python3.12, CodeUri: fn{i}, Handler: {handler}}}\n"
        )
    template = far / "template.yaml"
    template.write_text("Transform: AWS::Serverless-2016-10-31\nResources:\n" + "".join(resources))
    return app, template


async def test_the_open_file_is_published_before_the_rest_of_the_workspace(
    tmp_path: Path,
) -> None:
    app, far = _workspace(tmp_path, 40)
    async with running_server(tmp_path) as client:
        arrivals = Arrivals()
        client.diagnostics = arrivals
        open_document(client, app)
        first = await wait_for_diagnostics(client, app)
        lenses = await client.text_document_code_lens_async(
            lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=app.as_uri()))
        )
        on_far = await wait_for_diagnostics(client, far, timeout=30)
    assert [d.code for d in first] == ["handler-arity"]
    # The first publish of all is app.py's, from near/template.yaml alone.
    assert arrivals.order[0][:2] == (app.as_uri(), 1)
    assert [d.code for d in on_far] == ["entry-point-function-missing"]
    # Its lenses are there as soon as its problems are (from the first look, or the whole
    # workspace if that was read meanwhile: the same function either way).
    titles = sorted(lens.command.title for lens in lenses or [] if lens.command)
    assert titles == ["Debug handler", "▶ Run handler"]
    # app.py is not published again: the whole workspace says the same about it.
    assert [uri for uri, _, _ in arrivals.order].count(app.as_uri()) == 1
