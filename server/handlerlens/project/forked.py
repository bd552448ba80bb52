"""A computation run on another core in a forked child, its result sent back pickled.

`check` on a big tree with a cold parse cache spends ~0.5 s reading Terraform (python-hcl2's
pure-Python parser) while the SAM and Serverless files wait their turn on one core. Forked
right after the walk, a child reads the Terraform modules while this process reads the rest;
what comes back (functions, problems, cache entries) is small, so the parent pays ~10 ms for it.
Whatever goes wrong in the child (an exception, a crash, a result that does not unpickle) only
means the parent computes the same thing itself.

POSIX `fork` on Linux only (macOS forbids much after fork, Windows has none), and only for
`check`, which runs no threads; the language server never forks.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

_T = TypeVar("_T")


# True inside `allowed(True)`: the `check` command, a one-off process that runs no threads.
checking = False


@contextmanager
def allowed(allow: bool) -> Iterator[None]:
    """Discovery may fork inside the block when `allow` (and the machine can)."""
    global checking
    previous, checking = checking, allow
    try:
        yield
    finally:
        checking = previous


def available() -> bool:
    """Whether a child can run on a second core here (the cores this process may use: a
    `taskset` or a container's cpuset counts)."""
    if sys.platform != "linux" or not hasattr(os, "fork"):
        return False
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return cores > 1


class Forked(Generic[_T]):
    """`compute()` started in a forked child; `result()` waits for it (or computes it here)."""

    def __init__(self, compute: Callable[[], _T]) -> None:
        self.compute = compute
        self.pid = 0
        self.reader = -1
        if not available():
            return
        try:
            read_fd, write_fd = os.pipe()
        except OSError:
            return
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            return
        if pid == 0:
            _child(compute, read_fd, write_fd)
        os.close(write_fd)
        self.pid, self.reader = pid, read_fd

    def result(self) -> _T:
        """The child's result; computed here when the child gave none."""
        if self.pid:
            import pickle

            value: object = None
            try:
                with os.fdopen(self.reader, "rb") as stream:
                    data = stream.read()
                if data:
                    value = pickle.loads(data)
            except Exception:  # noqa: BLE001 - a broken result: computed here instead
                value = None
            finally:
                try:
                    _, status = os.waitpid(self.pid, 0)
                except ChildProcessError:
                    status = 1
                self.pid = 0
            if status == 0 and isinstance(value, tuple) and len(value) == 1:
                return value[0]  # type: ignore[no-any-return]
        return self.compute()


def _child(compute: Callable[[], object], read_fd: int, write_fd: int) -> None:
    """The child's whole life: compute, send, and leave without running the parent's exit
    handlers or flushing its buffers."""
    status = 1
    try:
        import pickle

        os.close(read_fd)
        data = pickle.dumps((compute(),), pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_fd, "wb") as out:
            out.write(data)
        status = 0
    except BaseException:  # noqa: BLE001 - the parent computes it instead
        pass
    finally:
        os._exit(status)
