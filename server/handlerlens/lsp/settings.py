"""Server settings from `initializationOptions` and `workspace/didChangeConfiguration`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PLATFORM_CHOICES = ("auto", "yandex", "aws")


@dataclass
class Settings:
    """Typed `handlerlens.*` settings; invalid values fall back to defaults with a warning."""

    platform: str = "auto"
    client_commands: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def platform_setting(self) -> str | None:
        """The platform to assume where no declaring file says; None means the default."""
        return None if self.platform == "auto" else self.platform


def parse_settings(options: Any) -> Settings:
    """Read `{"clientCommands": bool, "settings": {"platform": …}}`, tolerating anything."""
    result = Settings()
    if not isinstance(options, dict):
        return result
    result.client_commands = options.get("clientCommands") is True
    raw = options.get("settings", options)
    if isinstance(raw, dict) and isinstance(raw.get("handlerlens"), dict):
        raw = raw["handlerlens"]
    if not isinstance(raw, dict):
        return result
    platform = raw.get("platform")
    if platform is not None:
        if platform in PLATFORM_CHOICES:
            result.platform = platform
        else:
            result.warnings.append(
                f"handlerlens.platform must be one of {', '.join(PLATFORM_CHOICES)}; "
                f"got {platform!r}, using 'auto'."
            )
    return result
