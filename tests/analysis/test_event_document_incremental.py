"""A document derived from the previous version indexes exactly like one built from scratch."""

from __future__ import annotations

import random

from handlerlens.analysis.events.flow import EventDocument

BASE = """import json

def helper(evt):
    return evt['body']

DEFAULTS = {
    'a': 1,
}
def handler(event, context):
    body = helper(event)
    # comment at column 4
    return {'statusCode': 200, 'body': json.dumps(body)}
"""

PIECES = [
    "x",
    "\n",
    "\n\n",
    "def f(e, c):\n    pass\n",
    ")",
    "#",
    " ",
    "\t",
    "é",
    "'''",
    "",
    "async def g():\n",
]


def _same(derived: EventDocument, fresh: EventDocument) -> None:
    assert derived.lines == fresh.lines
    assert derived.starts == fresh.starts
    assert derived.defs == fresh.defs


def test_random_edit_sequences_index_like_fresh_documents() -> None:
    rng = random.Random(20261122)
    for _ in range(40):
        text = BASE
        doc = EventDocument(text)
        for _ in range(60):
            start = rng.randint(0, len(text))
            end = min(len(text), start + rng.choice([0, 0, 1, 2, 5, 30]))
            text = text[:start] + rng.choice(PIECES) + text[end:]
            derived = EventDocument(text, doc)
            _same(derived, EventDocument(text))
            doc = derived


def test_edits_at_the_edges_and_to_nothing() -> None:
    cases = [
        ("", "x"),
        ("x", ""),
        ("def a():\n    pass\n", "\ndef a():\n    pass\n"),
        ("def a():\n    pass\n", "def a():\n    pass\ndef b():\n"),
        ("a\nb\nc", "a\nb\nc\n"),
        ("a\n\n\nb", "a\n\nb"),
        ("same\ntext", "same\ntext"),
    ]
    for before, after in cases:
        _same(EventDocument(after, EventDocument(before)), EventDocument(after))


def test_carriage_returns_fall_back_to_a_fresh_index() -> None:
    before = "def a():\r\n    pass\r\n"
    after = "def a():\r\n    pass\r\ndef b():\r\n    pass\r\n"
    _same(EventDocument(after, EventDocument(before)), EventDocument(after))
    _same(EventDocument(before, EventDocument("x\n")), EventDocument(before))
