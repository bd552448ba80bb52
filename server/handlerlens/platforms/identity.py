"""How each platform names and presents a served function: its title, the name a bare entry
point gets, the constants its context carries, the other platform of the two.

Kept apart from runner_env.py (environment and ids) so the runner's `targets.py` asks one
place instead of branching on the platform; as light to import as runner_env (`invoke`).
"""

from __future__ import annotations

from . import runner_env

TYPE_CHECKING = False  # typing is not loaded: `invoke` imports this module
if TYPE_CHECKING:
    from typing import Any

TITLES = {"yandex": "Yandex", "aws": "AWS"}


def title(platform: str) -> str:
    """`Yandex` or `AWS`, as messages name the platform."""
    return TITLES[platform]


def other(platform: str) -> str:
    """The other platform of the two."""
    return "aws" if platform == "yandex" else "yandex"


def default_name(platform: str, entry: str) -> str:
    """The name of a function given only by its entry point: AWS's RIE calls every function
    `test_function`; on Yandex it is the entry's module (`main` for `main.handler`)."""
    if platform == "aws":
        return runner_env.DEFAULT_AWS_NAME
    return entry.rsplit(".", 1)[0]


def context_constants(
    platform: str, name: str, root: str, version: str, memory_mb: int
) -> dict[str, Any]:
    """The constant attributes of the handler's context (ids, ARN, memory…)."""
    if platform == "yandex":
        return runner_env.yandex_context(name, root, version, memory_mb)
    return {"invoked_function_arn": runner_env.aws_arn(name)}
