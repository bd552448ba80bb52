"""What a platform accepts as an entry point, a handler and a runtime: the shared shape.

Each platform module (`yandex.py`, `aws.py`) fills one `PlatformRules`; analysis reads only
this, so no platform fact is hard-coded outside `platforms/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from handlerlens.core.problems import Severity


@dataclass(frozen=True)
class RuntimeVerdict:
    """How a platform treats a runtime id: fine (`None` severity) or why not."""

    severity: Severity | None
    message: str


@dataclass(frozen=True)
class PlatformRules:
    """Entry-point, signature, response and runtime rules of one platform."""

    name: str
    title: str
    # Runtime ids the platform currently accepts for new versions, newest last.
    supported_runtimes: tuple[str, ...]
    # Runtime ids the platform lists but no longer accepts: id → note for the message.
    retired_runtimes: dict[str, str]
    # `dir/mod.handler`, `pkg.mod.handler`: resolved (AWS) or only warned about (Yandex).
    subdirectory_entry_severity: Severity | None
    async_handler_severity: Severity | None
    generator_handler_severity: Severity
    # `bytes` returned from a handler: AWS writes them raw, Yandex cannot encode them.
    bytes_response_ok: bool
    # What the platform says when the entry point fails, keyed by our diagnostic code.
    init_error_text: dict[str, str] = field(default_factory=dict)
    # Response headers the platform refuses (Yandex answers 502 when they are present).
    forbidden_response_headers: frozenset[str] = field(default_factory=frozenset)
    builtin_module_conflict: bool = False
    runtime_setting_name: str = "runtime"
    # Runtime ids deprecated but still accepted for a while: id → the note (with its date
    # where the source gives one) for the message.
    deprecated_runtimes: dict[str, str] = field(default_factory=dict)
    # Where the platform publishes when deprecated runtimes stop being accepted.
    runtime_schedule: str = ""

    def runtime_verdict(self, runtime: str) -> RuntimeVerdict:
        """Whether `runtime` is deployable on this platform, with a message when it is not."""
        if runtime in self.supported_runtimes:
            return RuntimeVerdict(None, "")
        supported = ", ".join(self.supported_runtimes)
        if runtime in self.deprecated_runtimes:
            note = self.deprecated_runtimes[runtime]
            schedule = f" (dates: {self.runtime_schedule})" if self.runtime_schedule else ""
            return RuntimeVerdict(
                Severity.WARNING,
                f"Runtime '{runtime}' is deprecated on {self.title} ({note}): its functions "
                f"still run, but creating, then updating them gets blocked{schedule}; "
                f"move to one of: {supported}.",
            )
        if runtime in self.retired_runtimes:
            note = self.retired_runtimes[runtime]
            return RuntimeVerdict(
                Severity.WARNING,
                f"Runtime '{runtime}' is not supported by {self.title} ({note}); "
                f"use one of: {supported}.",
            )
        return RuntimeVerdict(
            Severity.WARNING,
            f"'{runtime}' is not a Python runtime {self.title} knows; use one of: {supported}.",
        )


def runtime_python(runtime: str) -> tuple[int, int] | None:
    """The Python version a runtime id runs (`python3.12`, `python312` → (3, 12)), or None."""
    import re

    match = re.fullmatch(r"python(\d)\.?(\d{1,2})(?:\.x)?(?:-preview)?", runtime.strip().lower())
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


def is_placeholder(value: str) -> bool:
    """True for a runtime that a template or build fills in later: `${PythonVersion}`,
    `{{cookiecutter.python}}`, `%RUNTIME%`, `<runtime>`, or an all-caps name such as
    `PYTHON3_VERSION` — not a runtime id to judge."""
    import re

    text = value.strip()
    return bool(
        not text
        or any(ch in text for ch in "${}%<>")
        or text.startswith("!")
        or re.fullmatch(r"[A-Z][A-Z0-9_]*", text)
        or text.startswith(("var.", "local.", "module."))
    )
