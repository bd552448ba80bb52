"""How a call on a worker ended, in the platform's words: the outcome of the worker's reply
(an answer, a function error, a value that is not JSON, a response over the platform's
limit) or of its failure (a timeout, a worker that died, one a reload stopped while paused
in the debugger, one the runner's own stop ended), with the platform's log line and what
becomes of the instance."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from handlerlens.platforms import aws_errors
from handlerlens.platforms.failures import Failures
from handlerlens.runner.function_log import FunctionLog
from handlerlens.runner.outcome import STOPPING_ERROR, Outcome
from handlerlens.runner.pool import Instance, Pool
from handlerlens.runner.targets import ServedFunction

RELOADED_WHILE_PAUSED = (
    "The function was reloaded (a file changed) while this invocation was paused in the "
    "debugger, so its worker was stopped. Invoke again to run the new code."
)


def reply_outcome(
    fn: ServedFunction,
    failures: Failures,
    rid: str,
    reply: dict[str, Any],
    payload: bytes,
    say: Callable[[str], None],
) -> tuple[Outcome, int]:
    """The outcome of a worker's reply, and the worker's peak memory in KiB. The instance
    stays reusable whatever the reply: a function error leaves it running, as on the
    platforms. `say`: a line for the person at the terminal."""
    max_rss = int(reply.get("maxRssKb") or 0)
    if reply.get("ok"):
        too_large = failures.response_too_large(len(payload))
        if too_large is not None:
            message, error = too_large
            say(f"handlerlens: {fn.name}: {message}")
            return Outcome(rid, "error", error=error), max_rss
        return Outcome(rid, "ok", kind=str(reply.get("kind", "json")), payload=payload), max_rss
    kind = reply.get("errorKind")
    if kind == "unserialisable":
        detail = str(reply.get("detail", ""))
        say(f"handlerlens: {fn.name}: the return value is not JSON-serialisable ({detail})")
        return Outcome(rid, "unserialisable", detail=str(reply.get("repr", ""))), max_rss
    status = "init_error" if kind == "init" else "error"
    return Outcome(rid, status, error=reply.get("error") or {}), max_rss


async def failure_outcome(
    fn: ServedFunction,
    failures: Failures,
    pool: Pool,
    log: FunctionLog,
    instance: Instance,
    rid: str,
    exc: BaseException,
    init_s: float,
) -> Outcome:
    """A timed-out or dead worker: the platform's error and log line; the instance leaves
    the pool (replaced, but for one a reload stopped: the reload brings up the next).
    `init_s`: how much of the function's timeout the instance's init used for this call."""
    worker = instance.worker
    if isinstance(exc, asyncio.TimeoutError):
        worker.kill()
        message, error = failures.timeout(rid, fn.timeout, fn.timeout_from, init_s, time.time())
        await log.settle(worker, rid)
        log.system(rid, message)
        pool.discard(instance)
        return Outcome(rid, "timeout", error=error)
    if worker.interrupted:
        line, error = failures.interrupted(rid, RELOADED_WHILE_PAUSED)
        log.system(rid, line)
        # No replacement for this instance: the reload that ended it brings up the next.
        pool.retire(instance, "replacing paused")
        return Outcome(rid, "crash", error=error)
    if pool.closed:
        # Ended by the runner's own stop (Ctrl+C): not the function's failure.
        pool.discard(instance)
        return Outcome(rid, "crash", error=dict(STOPPING_ERROR))
    code = await worker.wait_exit(1.0)
    how = aws_errors.describe_exit(code)
    await log.settle(worker, rid)
    line, error = failures.crash(rid, how)
    log.system(rid, line)
    pool.discard(instance)
    return Outcome(rid, "crash", error=error)
