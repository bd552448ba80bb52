"""The server's wiring: every feature module registered from one list, none attaching
anything to the server, and the server not importing its features (no import cycle)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

from lsprotocol import types as lsp

from handlerlens.lsp import features
from handlerlens.lsp.main import build_server
from handlerlens.lsp.server import HandlerLensServer

LSP_DIR = Path(features.__file__).resolve().parents[1]


def test_every_feature_module_with_register_is_in_the_one_list() -> None:
    modules = [
        importlib.import_module(f"{features.__name__}.{m.name}")
        for m in pkgutil.iter_modules(features.__path__)
    ]
    registering = {m for m in modules if hasattr(m, "register")}
    assert registering == set(features.FEATURES)
    # event_hover is a helper of hover, registered through it.
    assert {m.__name__.rsplit(".", 1)[1] for m in modules} - {
        m.__name__.rsplit(".", 1)[1] for m in features.FEATURES
    } == {"event_hover"}


def test_registering_attaches_nothing_to_the_server() -> None:
    bare = set(vars(HandlerLensServer()))
    assert set(vars(build_server())) == bare


def test_each_method_has_its_handler_and_hover_is_one() -> None:
    server = build_server()
    registered = set(server.protocol.fm.features)
    assert {
        lsp.INITIALIZE,
        lsp.INITIALIZED,
        lsp.TEXT_DOCUMENT_HOVER,
        lsp.TEXT_DOCUMENT_COMPLETION,
        lsp.COMPLETION_ITEM_RESOLVE,
        lsp.TEXT_DOCUMENT_CODE_LENS,
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.SHUTDOWN,
    } <= registered
    assert set(server.protocol.fm.commands) == {
        "handlerlens.server.run",
        "handlerlens.server.debug",
        "handlerlens.server.startRunner",
        "handlerlens.server.stopRunner",
        "handlerlens.server.listEvents",
        "handlerlens.server.listFunctions",
        "handlerlens.server.sendRequest",
        "handlerlens.server.startApp",
        "handlerlens.server.stopApp",
    }
    assert "handlerlens/routes" in registered


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_the_server_and_the_patches_do_not_import_the_features() -> None:
    for name in ("server.py", "pygls_patches.py", "early_initialize.py"):
        imported = _imports(LSP_DIR / name)
        assert not any(i.startswith("handlerlens.lsp.features") for i in imported), name
