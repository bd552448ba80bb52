"""Realistic sample events per trigger, for the runner, `invoke` and the editor's event picker.

Each sample is `data/events/<platform>/<trigger>.sample.json`, a literal event (the Yandex
HTTP one is the docs' own dump, field for field). Every sample validates against its shape
(`platforms/event_shapes.py`); a test keeps them in step.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from handlerlens.platforms.triggers import sample_file, triggers_for


@cache
def _load(platform: str, trigger: str) -> Any:
    with open(sample_file(platform, trigger), encoding="utf-8") as handle:
        return json.load(handle)


def sample_event(platform: str, trigger: str) -> Any:
    """A fresh copy of the sample event for `trigger`; KeyError for an unknown platform/trigger."""
    return copy.deepcopy(_load(platform, trigger))


def sample_path(platform: str, trigger: str) -> Path:
    """The sample's JSON file on disk (to show or copy it); KeyError for an unknown trigger."""
    return Path(sample_file(platform, trigger))


def list_samples(platform: str) -> list[tuple[str, str]]:
    """(trigger id, title) of every sample of `platform`, in the order of `triggers.py`."""
    if platform not in ("yandex", "aws"):
        return []
    return list(triggers_for(platform).items())
