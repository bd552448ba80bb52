"""The Debug lens's server side: a runner under debugpy and the configuration to attach to it.

`handlerlens.server.debug` (`{function: FunctionRef}`) starts the function's runner with
`serve --debug` (restarting a plain one) and answers `{debugConfiguration, url, port,
debugPort}`. The configuration is a debugpy `attach` to the runner's adapter, so an editor
needs no Python extension: VS Code starts it with the `handlerlens` debug type (a
`DebugAdapterServer` on `connect`); other DAP clients attach to `debugPort` the same way.
Workers then arrive as child sessions (`startDebugging`); invoking goes through the Run
command, which reuses this runner.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types as lsp

from handlerlens.lsp import protocol
from handlerlens.lsp.features.commands import _arg, _function_ref, find_spec
from handlerlens.lsp.server import HandlerLensServer


def register(server: HandlerLensServer) -> None:
    """Wire `handlerlens.server.debug` (its runners are the server's, shared with Run)."""
    manager = server.runners

    @server.command(protocol.SERVER_DEBUG)
    async def debug(ls: HandlerLensServer, *args: Any) -> protocol.DebugResult | None:
        try:
            spec, _ = find_spec(ls, _function_ref(_arg(args)))
            managed = await manager.ensure(spec, debug=True)
        except Exception as exc:
            ls.window_show_message(
                lsp.ShowMessageParams(type=lsp.MessageType.Error, message=f"HandlerLens: {exc}")
            )
            return None
        # Loaded on the first Debug, not at start-up (it loads the debugger's protocol).
        from handlerlens.runner.debugger import attach_configuration

        process = managed.process
        return protocol.DebugResult(
            debugConfiguration=attach_configuration(process.debug_port, f"Debug {spec.name}"),
            url=process.url,
            port=process.port,
            debugPort=process.debug_port,
        )
