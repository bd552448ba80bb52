"""What a worker is told as it starts (its `init` operation): the function's whole
environment as the platform sets it, its context constants, its extra sys.path entries, and
what its deployment provides (for "works here, would fail deployed"). `serve` (runner/pool.py)
and `invoke` (runner/invoke.py) send it; which functions to serve is runner/targets.py.
"""

from __future__ import annotations

import os

from handlerlens.platforms import identity, runner_env

TYPE_CHECKING = False  # (typing is not imported for it: `invoke` starts lean)
if TYPE_CHECKING:
    from typing import Any

    from handlerlens.runner.targets import ServedFunction
    from handlerlens.worker.protocol import InitMessage


def deployed_field(fn: ServedFunction) -> dict[str, Any] | None:
    """What the deployment provides (InitMessage `deployed`), for the worker to say which
    imports work here but would fail deployed; None when it cannot be read. `serve` sends it
    (pool.py); `invoke` does not: reading the manifest loads `packaging`, too slow for it."""
    try:
        from handlerlens.deploy.provided import provided

        found = provided(fn.root, fn.platform, fn.runtime, fn.declared_in)
    except Exception:  # a note must never keep a function from starting
        return None
    if found is not None and fn.paths:
        # The local layers on its sys.path (function_setup) are deployed with it too.
        found = {**found, "roots": [*(found.get("roots") or []), *fn.paths]}
    return found


def init_message(fn: ServedFunction, version: str) -> InitMessage:
    """The worker's `init` operation: entry point, environment, context constants.

    The environment is the function's whole environment (the worker's own is replaced by it,
    PLATFORMS.md §12.1): the platform's PATH/LANG/LD_LIBRARY_PATH, then the host variables
    `--inherit-env` names, the declared ones and `--env`, then what the runtime reserves
    (which no configuration overrides) and the role's credentials where the platform sets
    them (§12.2).
    """
    from handlerlens.runner import worker_env
    from handlerlens.worker import protocol

    settings = worker_env.settings
    env = runner_env.base_env(fn.platform, fn.root, settings.bin_dir)
    inherited = worker_env.inherited(os.environ)
    env.update(inherited)
    env.update(fn.env)
    env.update(runner_env.log_level_default(fn.platform, env))
    env.update(
        runner_env.reserved_env(
            fn.platform,
            name=fn.function_name,
            entry=fn.entry,
            root=fn.root,
            memory_mb=fn.memory,
            timeout_s=fn.timeout,
            runtime=fn.runtime,
        )
    )
    env.update(runner_env.role_credentials(fn.platform, settings.aws_keys, inherited))
    context = identity.context_constants(fn.platform, fn.function_name, fn.root, version, fn.memory)
    token_file = settings.token_files.get(fn.name)
    if token_file:  # a Yandex service account's IAM token (runner/yc_token.py)
        context["token_file"] = token_file
    message: InitMessage = {
        "op": protocol.INIT,
        "platform": fn.platform,
        "entry": fn.entry,
        "env": env,
        "context": context,
    }
    if not settings.writable:
        message["writable"] = list(runner_env.WRITABLE_PATHS)
    if fn.paths:
        message["paths"] = list(fn.paths)
    return message
