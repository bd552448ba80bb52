"""Server settings from `initializationOptions` and `workspace/didChangeConfiguration`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PLATFORM_CHOICES = ("auto", "yandex", "aws")
DEFAULT_EVENTS_FOLDER = ".handlerlens/events"


@dataclass
class Settings:
    """Typed `handlerlens.*` settings; invalid values fall back to defaults with a warning."""

    platform: str = "auto"
    client_commands: bool = False
    runner_port: int = 0  # 0: any free port
    runner_timeout: float | None = None  # None: the function's declared timeout
    events_folder: str = DEFAULT_EVENTS_FOLDER
    # runtime-interpreter-mismatch: an info on each handler whose runtime is not the Python
    # the server (and the runner it starts) runs on. Off by default: it is about this machine.
    interpreter_mismatch: bool = False
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
    runner = raw.get("runner")
    if isinstance(runner, dict):
        port = runner.get("port")
        if isinstance(port, int) and not isinstance(port, bool) and 0 <= port <= 65535:
            result.runner_port = port
        elif port is not None:
            result.warnings.append(f"handlerlens.runner.port must be 0–65535; got {port!r}.")
        timeout = runner.get("timeout")
        if isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout > 0:
            result.runner_timeout = float(timeout)
        elif timeout is not None:
            result.warnings.append(
                f"handlerlens.runner.timeout must be a positive number of seconds; got {timeout!r}."
            )
    mismatch = raw.get("interpreterMismatch")
    if isinstance(mismatch, bool):
        result.interpreter_mismatch = mismatch
    elif mismatch is not None:
        result.warnings.append(
            f"handlerlens.interpreterMismatch must be true or false; got {mismatch!r}."
        )
    folder = raw.get("eventsFolder")
    if isinstance(folder, str) and folder.strip():
        result.events_folder = folder.strip()
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
