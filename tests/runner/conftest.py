"""Shared served runners (one per platform, module-scoped) for the runner tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.runner.harness import FIXTURES, Runner


@pytest.fixture(scope="module")
def yandex_runner() -> Iterator[Runner]:
    """Every Yandex fixture handler, as `name=main.name`, 1 s timeout, no watching."""
    names = [
        "dump",
        "respond",
        "raw_echo",
        "context_info",
        "boom",
        "counter",
        "slow",
        "hang",
        "exits",
        "hard_exit",
        "segfault",
        "hog",
        "unserialisable",
        "huge",
        "child",
        "async_handler",
        "logs",
    ]
    runner = Runner(
        [*(f"{n}=main.{n}" for n in names), "--platform", "yandex", "--timeout", "1", "--no-watch"],
        FIXTURES / "yandex",
    )
    yield runner
    runner.stop()


@pytest.fixture(scope="module")
def aws_runner() -> Iterator[Runner]:
    """The AWS fixture handlers plus the broken modules, 1 s timeout, no watching."""
    functions = [
        "handler=app.handler",
        "boom=app.boom",
        "hog=app.hog",
        "huge=app.huge",
        "logs=app.logs",
        "hang=app.hang",
        "unserialisable=app.unserialisable",
        "coroutine=app.coroutine",
        "api=app.api",
    ]
    runner = Runner(
        [*functions, "--platform", "aws", "--timeout", "1", "--no-watch", "--memory", "256"],
        FIXTURES / "aws",
    )
    yield runner
    runner.stop()
