"""The worker's loop: frames in on the control pipe, frames out on the result pipe.

stdout and stderr stay the function's own log. After each operation a sentinel is written to
both, so the supervisor knows which request every log line belongs to and when a request's
log is complete. A lifeline pipe, whose write end only the supervisor holds, reaches end of
file when the supervisor dies, however it died; the worker then kills its process group, so
neither it nor anything the handler spawned outlives the runner.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any, NoReturn

from . import channel
from .runtime import Runtime, max_rss_kb

SENTINEL = b"\x1e\x1eHANDLERLENS-END\x1e\x1e\n"


def _end_instance(status: int) -> NoReturn:
    # The instance is over: take whatever the handler spawned (same process group) along.
    try:
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpgrp(), signal.SIGKILL)
    finally:
        os._exit(status)


def _watch_lifeline(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except OSError:
        pass
    _end_instance(70)


def _mark_end_of_op() -> None:
    for stream, fd in ((sys.stdout, 1), (sys.stderr, 2)):
        try:
            stream.flush()
        except Exception:  # a closed or replaced stream must not break the protocol
            pass
        try:
            os.write(fd, SENTINEL)
        except OSError:
            pass


def _install_fresh_source_loader(root: str) -> None:
    # Modules under the code root are always compiled from source: a .pyc is validated by
    # mtime in whole seconds plus size, so two saves within a second would run stale code.
    import importlib.machinery as machinery

    class FreshSourceLoader(machinery.SourceFileLoader):
        def get_code(self, fullname: str) -> Any:
            return self.source_to_code(self.get_data(self.path), self.path)

    make_finder = machinery.FileFinder.path_hook(
        (machinery.ExtensionFileLoader, machinery.EXTENSION_SUFFIXES),
        (FreshSourceLoader, machinery.SOURCE_SUFFIXES),
        (machinery.SourcelessFileLoader, machinery.BYTECODE_SUFFIXES),
    )
    prefix = root.rstrip(os.sep) + os.sep

    def hook(path: str) -> Any:
        full = os.path.abspath(path or ".")
        inside = full == root or full.startswith(prefix)
        if not inside or "site-packages" in full or f"{os.sep}.venv" in full:
            raise ImportError("not under the code root")
        return make_finder(path)

    sys.path_hooks.insert(0, hook)
    sys.path_importer_cache.clear()


def main(argv: list[str]) -> int:
    """Serve operations until the supervisor says `exit` or goes away."""
    control, result, lifeline = (int(value) for value in argv[:3])
    for fd in (control, result, lifeline):
        os.set_inheritable(fd, False)
    threading.Thread(target=_watch_lifeline, args=(lifeline,), daemon=True).start()
    root = os.getcwd()
    if not sys.path or sys.path[0] != root:
        sys.path.insert(0, root)
    _install_fresh_source_loader(root)
    runtime = Runtime()
    while True:
        frame = channel.recv(control)
        if frame is None:
            _end_instance(0)
        meta, payload = frame
        op = meta.get("op")
        reply: dict[str, Any]
        body = b""
        if op == "init":
            reply = runtime.init(meta)
        elif op == "invoke":
            reply, body = runtime.invoke(meta, payload)
        elif op == "exit":
            _end_instance(0)
        else:
            reply = {"op": "error", "message": f"unknown operation {op!r}"}
        reply["maxRssKb"] = max_rss_kb()
        _mark_end_of_op()
        channel.send(result, reply, body)
