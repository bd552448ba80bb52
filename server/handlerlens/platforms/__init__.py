"""Everything platform-specific: rules, shapes, samples. Nothing else hard-codes a platform fact.

The rules load on first use (`rules_for`, `PLATFORMS`): the runner and `handlerlens invoke`
import this package for its small runtime modules and should not pay for the rules.
"""

from __future__ import annotations

from functools import cache

TYPE_CHECKING = False  # typing itself is not loaded: it costs `invoke` ~5 ms
if TYPE_CHECKING:
    from typing import Any

    from handlerlens.platforms.rules import PlatformRules

DEFAULT_PLATFORM = "yandex"


@cache
def _platforms() -> dict[str, PlatformRules]:
    from handlerlens.platforms import aws, yandex

    return {"yandex": yandex.RULES, "aws": aws.RULES}


def rules_for(platform: str) -> PlatformRules:
    """The rules of `platform` ("yandex" or "aws"); unknown names get the default's."""
    platforms = _platforms()
    return platforms.get(platform, platforms[DEFAULT_PLATFORM])


def __getattr__(name: str) -> Any:
    if name == "PLATFORMS":
        return _platforms()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
