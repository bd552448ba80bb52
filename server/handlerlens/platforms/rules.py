"""What a platform accepts as an entry point, a handler and a runtime: the shared shape.

Each platform module (`yandex.py`, `aws.py`) fills one `PlatformRules`; analysis reads only
this, so no platform fact is hard-coded outside `platforms/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from handlerlens.analysis.problems import Severity


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

    def runtime_verdict(self, runtime: str) -> RuntimeVerdict:
        """Whether `runtime` is deployable on this platform, with a message when it is not."""
        if runtime in self.supported_runtimes:
            return RuntimeVerdict(None, "")
        supported = ", ".join(self.supported_runtimes)
        if runtime in self.retired_runtimes:
            note = self.retired_runtimes[runtime]
            return RuntimeVerdict(
                Severity.WARNING,
                f"{self.title} does not accept runtime '{runtime}' ({note}); "
                f"use one of: {supported}.",
            )
        return RuntimeVerdict(
            Severity.WARNING,
            f"'{runtime}' is not a Python runtime {self.title} knows; use one of: {supported}.",
        )
