"""Everything platform-specific: rules, shapes, samples. Nothing else hard-codes a platform fact."""

from __future__ import annotations

from handlerlens.platforms import aws, yandex
from handlerlens.platforms.rules import PlatformRules

PLATFORMS: dict[str, PlatformRules] = {"yandex": yandex.RULES, "aws": aws.RULES}
DEFAULT_PLATFORM = "yandex"


def rules_for(platform: str) -> PlatformRules:
    """The rules of `platform` ("yandex" or "aws"); unknown names get the default's."""
    return PLATFORMS.get(platform, PLATFORMS[DEFAULT_PLATFORM])
