"""`invoke`'s worker process: a fork of this process that runs the worker loop in place when
the function's interpreter is this one (one interpreter start-up per invocation, not two),
else the worker script in that interpreter; our ends of its pipes, its kill (its whole
process group) and its reaping.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from handlerlens.runner.targets import ServedFunction

# The worker loop, loaded before any fork: in the child, every page an import touches would
# be copied first (twice the time).
from handlerlens.worker import serve

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

WORKER_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "worker")


def start_child(fn: ServedFunction, python: str) -> InvokeChild | None:
    """The worker for one invocation of `fn` in `python`: forked when `python` is this
    interpreter, else spawned; None (and a message) if it cannot start."""
    # Under the extension's bundle this process sees our libraries: the handler must not.
    if _same_interpreter(python) and not os.environ.get("HANDLERLENS_BUNDLED_LIBS"):
        return InvokeChild.forked(fn)
    return InvokeChild.spawned(fn, python)


def _same_interpreter(python: str) -> bool:
    # The same binary in another virtual environment (its bin/python links to ours) is
    # another interpreter: its site-packages are that project's.
    try:
        return os.path.samefile(python, sys.executable) and os.path.samefile(
            os.path.dirname(python), os.path.dirname(sys.executable)
        )
    except OSError:
        return False


class InvokeChild:
    """The worker process: its pid, our ends of its pipes, its output."""

    def __init__(self, pid: int, control: int, result: int, lifeline: int, out: IO[bytes]) -> None:
        self.pid = pid
        self.control = control
        self.result = result
        self.lifeline = lifeline
        # stdout and stderr share one pipe: both are the function's log, in their order.
        self.out = out
        self.returncode: int | None = None

    @classmethod
    def forked(cls, fn: ServedFunction) -> InvokeChild:
        """A fork of this process running the worker loop, as the worker script would."""
        control_r, control_w = os.pipe()
        result_r, result_w = os.pipe()
        lifeline_r, lifeline_w = os.pipe()
        out_r, out_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        import gc

        # Objects the collector would otherwise walk (and so copy, page by page) in the child.
        gc.freeze()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; its outcome is what the tests check
            status = 70
            try:
                os.setsid()  # its own process group: the lifeline takes anything it spawns
                gc.enable()  # (off in a console `invoke`, cli.main): the handler's as deployed
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(out_w, 1)
                os.dup2(out_w, 2)
                for fd in (control_w, result_r, lifeline_w, out_r, out_w, null):
                    os.close(fd)
                # The environment, sys.path and sys.argv a spawned worker would have.
                from handlerlens.runner.worker_env import enter_forked_worker

                enter_forked_worker(WORKER_DIR)
                os.chdir(fn.root)
                status = serve.main([str(control_r), str(result_w), str(lifeline_r)])
            except SystemExit as exc:  # sys.exit() in the handler ends the interpreter
                code = exc.code
                if code is None or isinstance(code, int):
                    status = code or 0
                else:
                    print(code, file=sys.stderr)
                    status = 1
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                for stream in (sys.stdout, sys.stderr):
                    try:
                        stream.flush()
                    except Exception:
                        pass
                os._exit(status)
        for fd in (control_r, result_w, lifeline_r, out_w):
            os.close(fd)
        return cls(pid, control_w, result_r, lifeline_w, os.fdopen(out_r, "rb", buffering=0))

    @classmethod
    def spawned(cls, fn: ServedFunction, python: str) -> InvokeChild | None:
        """The worker script in another interpreter; None (and a message) if it cannot start."""
        import subprocess

        from handlerlens.runner.worker_env import worker_environ

        control_r, control_w = os.pipe()
        result_r, result_w = os.pipe()
        lifeline_r, lifeline_w = os.pipe()
        fds = (control_r, result_w, lifeline_r)
        try:
            child = subprocess.Popen(
                [python, os.path.join(WORKER_DIR, "__main__.py"), *map(str, fds)],
                cwd=fn.root,
                env=worker_environ(os.environ),
                pass_fds=fds,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            print(f"handlerlens: cannot start {python}: {exc}", file=sys.stderr)
            for fd in (*fds, control_w, result_r, lifeline_w):
                os.close(fd)
            return None
        for fd in fds:
            os.close(fd)
        assert child.stdout is not None
        child.returncode = 0  # reaped below with waitpid, never by Popen
        return cls(child.pid, control_w, result_r, lifeline_w, child.stdout)

    def kill(self) -> None:
        """SIGKILL the worker's process group (the worker and whatever it spawned)."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass

    def wait(self, timeout: float) -> int | None:
        """The exit status (negative: the signal), None if still running after `timeout`."""
        import select

        if self.returncode is not None:
            return self.returncode
        try:
            handle = os.pidfd_open(self.pid)  # Linux ≥ 5.3: readable once the process exits
        except (AttributeError, OSError):
            handle = -1
        deadline = time.monotonic() + timeout
        try:
            while True:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
                    return self.returncode
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                if handle >= 0:
                    select.select([handle], [], [], left)
                else:
                    time.sleep(min(left, 0.005))
        except ChildProcessError:
            return self.returncode
        finally:
            if handle >= 0:
                os.close(handle)

    def close(self) -> None:
        for fd in (self.control, self.result, self.lifeline):
            try:
                os.close(fd)
            except OSError:
                pass
