"""The declared gateway routes of one `handlerlens serve`: read as it starts (the port is open
meanwhile: requests wait for them), read again when a declaring file changes (one reading at a
time; a change during one reads again; a file that stops parsing keeps the last good routes),
and told, to people and as the `routes` event of `--status-json`, with the URL to call.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING
from urllib.parse import quote

from handlerlens.runner.route_table import Loaded, RouteTable, read_routes
from handlerlens.runner.status import Status

if TYPE_CHECKING:
    from collections.abc import Mapping

    from handlerlens.runner.host import FunctionHost
    from handlerlens.runner.lender import Lender

log = logging.getLogger("handlerlens.runner")


class ServedRoutes:
    """The route table a supervisor serves, and its readings."""

    def __init__(
        self,
        table: RouteTable,
        project_root: str,
        platform: str | None,
        hosts: Mapping[str, FunctionHost],
        status: Status,
    ) -> None:
        self.table = table
        self.project_root = project_root
        self.platform = platform
        self.hosts = hosts
        self.status = status
        # Lenders whose connections come back to be routed once routes are declared.
        self.lenders: Mapping[str, Lender] = {}
        self.url = ""  # where the port listens, once it does
        self._task: asyncio.Task[None] | None = None
        self._again = False

    async def first(self) -> None:
        """The routes read as serve starts (the port is open meanwhile: requests wait)."""
        try:
            loaded = await asyncio.to_thread(read_routes, self.project_root, self.platform)
        except Exception as exc:  # a reader's bug must not keep the functions from serving
            log.exception("runner: reading the routes failed")
            loaded = Loaded([], [], [f"reading the declared routes failed: {exc}"])
        self.table.apply(loaded)
        for line in loaded.broken:
            self.status.human(f"handlerlens: warning: {line}")

    def tell(self, reason: str, kept: bool = False) -> None:
        """The route table: for people, and as a `routes` event."""
        from handlerlens.check import text_line

        routes = self.table
        url = self.url
        self.status.emit(routes.event(url, reason, kept))
        if routes.active:
            how = "all on this port"
            if routes.kinds & {"rest", "http"}:
                how += (
                    " without a stage prefix, as `sam local start-api` serves them (a stage "
                    "prefix such as /Prod/… is accepted too)"
                )
            self.status.human(f"handlerlens: {len(routes.entries)} route(s), {how}:")
            for line in routes.describe(url):
                self.status.human(line)
        elif reason != "start":
            self.status.human("handlerlens: no HTTP routes are declared any more")
        for problem in routes.problems:
            line = text_line(problem)
            if problem.code == "route-conflict":
                line += " (served: the first declaration wins)"
            self.status.human(f"handlerlens: {line}")
        if routes.active:
            # (a function whose routes are shadowed is said in the table itself)
            reached = routes.routed_hosts() | routes.shadowed_hosts()
            for host in self.hosts.values():
                if host.fn.name in reached:
                    continue
                name = host.fn.name
                self.status.human(
                    f"handlerlens: {name} has no HTTP route: call it through the Invoke API, "
                    f"POST {url}/2015-03-31/functions/{quote(name, safe='')}/invocations "
                    f"(or its HTTP face at {url}/{name}/…)"
                )

    def reload(self) -> None:
        """Read the routes again, once at a time: a change during a reading reads again."""
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._read_again())

    async def _read_again(self) -> None:
        routes = self.table
        while True:
            self._again = False
            try:
                loaded = await asyncio.to_thread(read_routes, self.project_root, self.platform)
            except Exception:
                log.exception("runner: reading the routes failed; the last ones are kept")
                return
            if routes.apply(loaded):
                if routes.active:
                    # Connections lent before routes were declared come back to be routed.
                    for lender in self.lenders.values():
                        lender.give_back()
                self.tell("changed")
            else:
                for line in loaded.broken:
                    self.status.human(
                        f"handlerlens: {line}; the routes it declared before are kept until "
                        "it parses again"
                    )
                self.status.emit(routes.event(self.url, "changed", kept=True))
            if not self._again:
                return

    def cancel(self) -> None:
        """Stop a reading under way (serve stops)."""
        if self._task is not None:
            self._task.cancel()
