"""The runner under load: concurrent clients, saves and every fault at once; nothing is lost.

`make test` runs 1,000 requests from 20 clients; soak mode (scripts/soak.sh) 10,000 from 50
and the fault set three times over.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.load import (
    Load,
    LoadProject,
    get,
    overlaps,
    processes_under,
    wait_no_processes_under,
)
from tests.reliability.scale import scaled
from tests.runner.harness import Runner

TOTAL = scaled(1_000, 10_000)
CLIENTS = scaled(20, 50)
SAVES = scaled(8, 40)
FAULT_ROUNDS = scaled(1, 3)
TIMEOUT_S = 2

Check = Callable[[int, dict[str, str], dict[str, Any]], bool]


def _error(body: dict[str, Any], message: str) -> bool:
    return body.get("errorMessage") == message


# What each injected fault must answer (the platform's error, or success for noisy handlers).
FAULTS: dict[str, Check] = {
    "raise": lambda s, h, b: (
        s == 502 and h.get("x-function-error") == "true" and b.get("errorType") == "RuntimeError"
    ),
    "hang": lambda s, h, b: s == 504 and b.get("errorType") == "Timeout",
    "exit": lambda s, h, b: s == 502 and _error(b, "Runtime exited with error: exit status 4"),
    "os_exit": lambda s, h, b: s == 502 and _error(b, "Runtime exited with error: exit status 9"),
    "segfault": lambda s, h, b: (
        s == 502 and _error(b, "Runtime exited with error: signal: segmentation fault")
    ),
    "spew": lambda s, h, b: s == 200 and b.get("fault") == "spew",
    "unserialisable": lambda s, h, b: s == 502 and b.get("errorType") == "ProxyIntegrationError",
    "huge": lambda s, h, b: s == 502 and b.get("errorType") == "ProxyIntegrationError",
    # Past the 128 MB memory size the runner kills the instance (AWS says "signal: killed");
    # zeroing the memory can outlast the timeout on a busy machine, which is a 504 instead.
    "memory": lambda s, h, b: (
        (s == 502 and _error(b, "Runtime exited with error: signal: killed"))
        or (s == 504 and b.get("errorType") == "Timeout")
    ),
    "child": lambda s, h, b: s == 200 and b.get("fault") == "child",
}


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@pytest.fixture
def project(tmp_path: Path) -> LoadProject:
    return LoadProject(tmp_path / "load-project")


@pytest.mark.timeout(scaled(170, 1800))
@pytest.mark.parametrize("instances", ["1", "2"], ids=["lent-to-one-instance", "two-instances"])
def test_every_request_is_answered_under_saves_and_faults(
    project: LoadProject, instances: str
) -> None:
    # One instance: connections are lent to its worker (runner/lender.py); two: the
    # supervisor serves every request and spreads them.
    runner = Runner(
        ["main.handler", "--platform", "yandex", "--timeout", str(TIMEOUT_S)]
        + ["--instances", instances],
        project.root,
    )
    load = Load(runner.port, TOTAL, CLIENTS)
    faults: list[tuple[str, int, dict[str, Any], bool, tuple[int, dict[str, Any]]]] = []
    saves: list[int] = []

    def saver() -> None:
        for index in range(SAVES):
            if not load.wait_done((index + 1) / (SAVES + 1)):
                return
            saves.append(project.save(atomic=index % 3 == 2))
            if index % 4 == 3:
                # Save, then format-on-save a moment later: one burst.
                time.sleep(0.005)
                saves.append(project.save())

    def injector() -> None:
        names = list(FAULTS) * FAULT_ROUNDS
        for index, name in enumerate(names):
            if not load.wait_done(0.05 + 0.85 * index / len(names)):
                return
            status, headers, raw = get(runner.port, f"/?fault={name}")
            body = _json(raw)
            ok = FAULTS[name](status, headers, body)
            # The next request after a fault must succeed.
            after_status, _, after_raw = get(runner.port, f"/?seq=after-{name}")
            faults.append((name, status, body, ok, (after_status, _json(after_raw))))

    try:
        load.run([saver, injector], deadline=scaled(150, 1700))
        assert runner.process.poll() is None, "the runner died under load"
        final = project.generation
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status, _, raw = get(runner.port, "/?seq=final")
            if status == 200 and _json(raw).get("generation") == final:
                break
            time.sleep(0.05)
        settled = [get(runner.port, "/?seq=settled") for _ in range(10)]
    finally:
        code = runner.stop()

    answers = sorted(load.answers, key=lambda a: a.seq)
    lost = [a for a in answers if a.error]
    assert not lost, f"{len(lost)} requests lost, e.g. {lost[:3]}"
    assert [a.seq for a in answers] == list(range(TOTAL)), "some requests were never answered"
    failed = [a for a in answers if a.status != 200]
    assert not failed, (
        f"{len(failed)} requests failed, e.g. {[(a.status, a.raw[:300]) for a in failed[:3]]}"
    )
    mixed_up = [a for a in answers if a.body.get("seq") != str(a.seq)]
    assert not mixed_up, f"answers delivered to the wrong request: {mixed_up[:3]}"
    generations = {int(a.body["generation"]) for a in answers}
    assert generations <= set(range(1, final + 1))
    assert len(generations) >= 2, "no save was ever served during the load"
    assert overlaps(answers) == [], "one worker ran two requests at once"

    assert [name for name, *_ in faults] == list(FAULTS) * FAULT_ROUNDS
    wrong = [(name, status, body) for name, status, body, ok, _ in faults if not ok]
    assert not wrong, f"faults answered wrongly: {wrong}"
    not_recovered = [(name, after) for name, *_, after in faults if after[0] != 200]
    assert not not_recovered, f"the request after a fault failed: {not_recovered}"

    assert all(s == 200 and _json(r).get("generation") == final for s, _, r in settled), (
        f"the last save (generation {final}) is not what is served: {settled}"
    )
    assert code == 0
    assert wait_no_processes_under(project.root) == [], "processes outlived the runner"


@pytest.mark.timeout(60)
def test_killing_the_runner_mid_load_leaves_no_process_behind(project: LoadProject) -> None:
    runner = Runner(
        ["main.handler", "--platform", "yandex", "--timeout", str(TIMEOUT_S), "--instances", "2"],
        project.root,
    )
    load = Load(runner.port, scaled(400, 4_000), 8)
    before_kill: list[list[tuple[int, str]]] = []

    def killer() -> None:
        get(runner.port, "/?fault=child")
        load.wait_done(0.3)
        before_kill.append(processes_under(project.root))
        runner.process.send_signal(signal.SIGKILL)

    try:
        load.run([killer], deadline=40)
    finally:
        runner.stop()
    # Supervisor, workers, standbys and the handler's child were all running...
    (running,) = before_kill
    assert sum("handlerlens" in cmdline for _, cmdline in running) >= 3
    assert any("time.sleep(300)" in cmdline for _, cmdline in running)
    # ...and requests in flight when the supervisor died fail, but nothing keeps running.
    assert wait_no_processes_under(project.root) == [], "workers or children were orphaned"
