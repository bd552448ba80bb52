"""What decorators and annotations on a handler say about the event and context it receives.

A decorator replaces the function the runtime calls: what reaches the decorated body is
whatever the wrapper passes on. Only wrappers whose behaviour is known are trusted to pass
the platform's event or context through unchanged; with any other decorator the handler's
parameters are not checked as the platform's (issue #14 A). Keyed by the decorator's last
name (`@logger.inject_lambda_context(...)` → `inject_lambda_context`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SAME = "same"  # the platform's own event or context reaches the body
REPLACED = "replaced"  # the wrapper passes something else (a data class, a payload, a model)


@dataclass(frozen=True)
class Wrapper:
    """What one known decorator passes on: the event, and which context model (or SAME)."""

    event: str
    context: str
    # Keyword arguments with which the wrapper passes a different event (`envelope=`).
    event_replaced_by: tuple[str, ...] = ()


_PASS_THROUGH = Wrapper(SAME, SAME)

# Powertools for AWS Lambda (Python): aws_lambda_powertools/logging/logger.py,
# tracing/tracer.py, metrics/base.py, utilities/idempotency, utilities/batch (each calls the
# handler with the event and context it got); utilities/data_classes/event_source.py and
# utilities/parser (the event becomes a data class or a model); utilities/validation
# (`envelope=` passes the unwrapped part). aws-xray-sdk `xray_recorder.capture`, Datadog's
# `datadog_lambda_wrapper` and Lumigo's `lumigo_tracer` call through unchanged.
# aws-durable-execution-sdk-python execution.py: `durable_execution` (and its older name
# `durable_handler`) call the body with the execution's input payload and a DurableContext.
KNOWN_WRAPPERS: dict[str, Wrapper] = {
    "inject_lambda_context": _PASS_THROUGH,
    "capture_lambda_handler": _PASS_THROUGH,
    "log_metrics": _PASS_THROUGH,
    "idempotent": _PASS_THROUGH,
    "batch_processor": _PASS_THROUGH,
    "async_batch_processor": _PASS_THROUGH,
    "capture": _PASS_THROUGH,
    "datadog_lambda_wrapper": _PASS_THROUGH,
    "lumigo_tracer": _PASS_THROUGH,
    "validator": Wrapper(SAME, SAME, event_replaced_by=("envelope",)),
    "event_source": Wrapper(REPLACED, SAME),
    "event_parser": Wrapper(REPLACED, SAME),
    "durable_execution": Wrapper(REPLACED, "aws-durable"),
    "durable_handler": Wrapper(REPLACED, "aws-durable"),
}

# Annotations of the context parameter naming the platform's own context type:
# awslambdaric / Powertools `LambdaContext`, aws-lambda-typing `Context`.
PLATFORM_CONTEXT_TYPES = frozenset({"LambdaContext", "Context"})
# Annotations naming another context model (data/context/<model>.json).
OTHER_CONTEXT_TYPES = {"DurableContext": "aws-durable"}
# Annotations that say nothing about what is passed.
NEUTRAL_TYPES = frozenset({"", "Any", "object"})


@dataclass(frozen=True)
class ParamView:
    """How the analysis sees a handler's parameters: which context model completes and
    documents `context`, and whether the event and context are checked against the platform."""

    context_model: str
    context_checked: bool
    event_checked: bool


def param_view(
    platform: str,
    decorators: Sequence[tuple[str, tuple[str, ...]]],
    context_annotation: str,
) -> ParamView:
    """The view of a handler on `platform` with these decorators (last name, keyword names;
    outermost first) and this annotation on its context parameter (its last dotted name)."""
    model, context_checked, event_checked = platform, True, True
    context_annotation = context_annotation.rsplit(".", 1)[-1]
    for name, keywords in decorators:
        wrapper = KNOWN_WRAPPERS.get(name)
        if wrapper is None:
            # Unknown wrapper: it may pass anything. Keep completing as the platform's (most
            # wrappers pass through), but check nothing.
            context_checked = event_checked = False
            continue
        if wrapper.event != SAME or any(k in wrapper.event_replaced_by for k in keywords):
            event_checked = False
        if wrapper.context != SAME:
            model = wrapper.context
    if context_annotation in OTHER_CONTEXT_TYPES:
        model, context_checked = OTHER_CONTEXT_TYPES[context_annotation], True
    elif (
        context_annotation not in PLATFORM_CONTEXT_TYPES and context_annotation not in NEUTRAL_TYPES
    ):
        context_checked = False  # annotated as something else: the author knows better
    return ParamView(model, context_checked, event_checked)
