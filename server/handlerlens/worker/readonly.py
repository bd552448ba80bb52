"""Writes outside the platform's writable paths fail as they fail deployed.

On Lambda the code in /var/task is read-only and only /tmp is writable (PLATFORMS.md §12.3;
DG images-create.md: images "must be able to run on a read-only file system"); Yandex gives
/tmp too. Locally the code root is the developer's own folder, where a write succeeds. An
audit hook (PEP 578; it cannot be removed, and a worker runs one function) turns every
write, create, delete or rename outside the writable paths into the deployed error,
`OSError(errno.EROFS, "Read-only file system")`, and says once per path on stderr (the
function's log) that it would fail deployed. `--writable` leaves the hook out.

Not covered: writes through an open directory descriptor (`dir_fd`), from C extensions that
call the C library directly, and from subprocesses.
"""

from __future__ import annotations

import errno
import os
import sys

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
# Audit events that change the file system, and which of their arguments are paths.
_PATH_EVENTS = {
    "os.mkdir": (0,),
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.rename": (0, 1),
    "os.link": (0, 1),
    "os.symlink": (1,),
    "os.truncate": (0,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.utime": (0,),
    "shutil.rmtree": (0,),
}
# Never the function's writes: the interpreter caching compiled modules (which it does
# silently without), and devices.
_ALWAYS = ("/dev/", "/proc/")


class _Guard:
    def __init__(self, writable: list[str], platform: str, code_root: str) -> None:
        self.writable = tuple(os.path.realpath(p) for p in writable)
        # The code root is read-only even where it sits under a writable path locally (a
        # project in /tmp): deployed it is /var/task or /function/code.
        self.code_root = os.path.realpath(code_root)
        self.platform = platform
        self.told: set[str] = set()
        self.active = True

    def allowed(self, path: object) -> bool:
        if isinstance(path, int) or path is None:
            return True  # a descriptor: the open that made it was checked
        if not isinstance(path, (str, bytes, os.PathLike)):
            return True
        text = os.fsdecode(os.fspath(path))
        full = os.path.realpath(os.path.abspath(text))
        if full.startswith(_ALWAYS) or f"{os.sep}__pycache__" in full:
            return True
        if full == self.code_root or full.startswith(self.code_root + os.sep):
            return False
        return any(full == w or full.startswith(w.rstrip(os.sep) + os.sep) for w in self.writable)

    def deny(self, event: str, path: object) -> None:
        assert isinstance(path, (str, bytes, os.PathLike))
        text = os.fsdecode(os.fspath(path))
        full = os.path.realpath(os.path.abspath(text))
        if full not in self.told:
            self.told.add(full)
            where = "AWS Lambda" if self.platform == "aws" else "Yandex Cloud Functions"
            only = ", ".join(self.writable)
            sys.stderr.write(
                f"handlerlens: {event} {full}: Read-only file system. This write would fail "
                f"deployed on {where}, where only {only} is writable; --writable allows it "
                "here\n"
            )
        raise OSError(errno.EROFS, "Read-only file system", text)

    def __call__(self, event: str, args: tuple[object, ...]) -> None:
        if not self.active:
            return
        if event == "open":
            # (path, mode, flags): `open()` gives the mode string, os.open only the flags.
            if len(args) < 3 or not isinstance(args[2], int) or not args[2] & _WRITE_FLAGS:
                mode = args[1] if len(args) > 1 else None
                if not (isinstance(mode, str) and any(c in mode for c in "wax+")):
                    return
            if not self.allowed(args[0]):
                self.deny("open", args[0])
            return
        indexes = _PATH_EVENTS.get(event)
        if indexes is None:
            return
        for index in indexes:
            if index < len(args) and not self.allowed(args[index]):
                self.deny(event.rpartition(".")[2], args[index])


_guard: _Guard | None = None


def install(writable: list[str], platform: str, code_root: str) -> None:
    """Fail writes outside `writable` (and inside `code_root`) from now on, once per process."""
    global _guard
    if _guard is not None or not hasattr(sys, "addaudithook"):  # audit hooks: Python 3.8+
        return
    _guard = _Guard(writable, platform, code_root)
    sys.addaudithook(_guard)
