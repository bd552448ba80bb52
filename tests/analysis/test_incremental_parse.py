"""Parsing one top-level statement at a time gives exactly what a whole parse gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from handlerlens.core.python_module import _parse_whole, parse_module
from handlerlens.core.text import LineIndex

STATEMENTS = st.sampled_from(
    [
        "def handler(event, context):\n    return {'body': '''\nx = 1\n'''}\n",
        "@decorator\n@other(1)\ndef decorated(event, context):\n    pass\n",
        "@decorator\nclass Klass:\n    pass\n",
        "async def handler(evt, ctx):\n    await x\n",
        "if True:\n    def cond(a, b):\n        pass\nelse:\n    cond = 1\n",
        "try:\n    import fast as impl\nexcept ImportError:\n    impl = None\nfinally:\n    pass\n",
        "if impl:\n    impl = 1\n",
        "with lock:\n    impl = 2\n    if impl:\n        impl = 3\n",
        "impl = 4; impl = impl\n",
        "x = (\n1,\n2,\n)\n",
        "TEXT = '''\ndef fake(event, context):\n    pass\n'''\n",
        "value = 1 + \\\n2\n",
        "handler = lambda event, context: 1\n",
        "from mod import *\n",
        "def __getattr__(name):\n    return name\n",
        "# a comment\n\n",
        "def handler(event):\n  return 2\n",
        "    indented = 1\n",
        "def broken(:\n",
        "\x0c\n",
        # half-typed lines, as while completing
        "def typing(event, context):\n    name = context.\n    return name\n",
        "def keys(event, context):\n    return event['\n",
        "call = foo(\n",
        "items = [1,\n2\n",
        "text = 'abc\n",
        "x = 1 +\n",
        "cont = 'abc\\\ndef'\n",
        "fs = f'{event[\"\n",
        "doc = '''\nit's\n'''\n",
        "class Klass2:\n    def method(self):\n        return 1\n",
    ]
)


def _summary(text: str, whole: bool) -> object:
    info = _parse_whole(text, LineIndex(text)) if whole else parse_module(text)
    if info.syntax_error is not None:
        return ("error", info.syntax_error.span, info.syntax_error.message)
    return (
        [
            (
                b.name,
                b.kind,
                b.span,
                b.line_span,
                b.is_async,
                b.decorated,
                b.literal_type,
                b.rebound,
                getattr(b.node, "lineno", None),
                getattr(b.node, "end_lineno", None),
            )
            for b in info.bindings.values()
        ],
        info.has_module_getattr,
        info.star_imports,
    )


@settings(max_examples=1500, deadline=None)
@given(st.lists(STATEMENTS, max_size=8).map("".join))
def test_chunked_parse_equals_whole_parse(text: str) -> None:
    assert _summary(text, whole=False) == _summary(text, whole=True)


def test_an_edit_reuses_the_other_statements() -> None:
    text = "".join(f"def f{i}(event, context):\n    return {i}\n\n" for i in range(200))
    first = parse_module(text)
    edited = text.replace("return 100", "return 1000")
    second = parse_module(edited)
    # Unchanged statements keep their parsed node; the edited one is parsed afresh.
    assert second.bindings["f5"].raw_node is first.bindings["f5"].raw_node
    assert second.bindings["f100"].raw_node is not first.bindings["f100"].raw_node
    shifted = parse_module("\n\n" + text)
    assert shifted.bindings["f5"].raw_node is first.bindings["f5"].raw_node
    assert shifted.bindings["f5"].span.start.line == first.bindings["f5"].span.start.line + 2
    assert shifted.bindings["f5"].node.lineno == first.bindings["f5"].node.lineno + 2


def test_a_cached_syntax_error_keeps_no_module_text_alive() -> None:
    # A traceback would hold the caller's frame, and with it the whole text of every module
    # version typed (the server's memory grew by ~30 MiB in the benchmark's edit series).
    from handlerlens.core import python_module

    text = "def ok(event, context):\n    return 1\n\ndef typing(event, context):\n    x = ctx.\n"
    info = parse_module(text)
    assert info.syntax_error is not None
    errors = [v for v in python_module._chunks.values() if isinstance(v, SyntaxError)]
    assert errors and all(e.__traceback__ is None for e in errors)


def test_a_module_with_more_statements_than_the_cache_is_parsed_whole() -> None:
    # A generated module (tens of thousands of assignments): split into statements, every
    # keystroke would parse each one again, the cache being too small to hold them.
    import gc

    from handlerlens.core import python_module

    count = python_module._CHUNK_CACHE_LIMIT + 10
    text = "def handler(event, context):\n    return 1\n" + "".join(
        f"x{i} = {i}\n" for i in range(count)
    )
    python_module._chunks.clear()
    info = parse_module(text)
    assert python_module._chunks == {}  # nothing split, nothing cached
    assert info.syntax_error is None
    assert len(info.bindings) == count + 1
    assert info.bindings["handler"].kind == "function"
    assert (
        info.bindings[f"x{count - 1}"].line_span
        == _parse_whole(text, LineIndex(text)).bindings[f"x{count - 1}"].line_span
    )
    assert gc.isenabled()  # the collector, paused while parsing, is back on
