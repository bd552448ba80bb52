"""Request ids are random version-4 UUIDs in canonical form, like uuid.uuid4()'s."""

from __future__ import annotations

import uuid

from handlerlens.platforms.runner_env import request_id


def test_request_ids_are_canonical_random_uuid4_strings():
    seen = set()
    for _ in range(2000):
        rid = request_id()
        parsed = uuid.UUID(rid)
        assert str(parsed) == rid  # lower-case hex, 8-4-4-4-12
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        seen.add(rid)
    assert len(seen) == 2000
