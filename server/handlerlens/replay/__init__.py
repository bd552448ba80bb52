"""Saved events as regression tests: `handlerlens event new|list` and `handlerlens test`.

A saved event is `.handlerlens/events/<function>/<name>.json` (the folder the VS Code extension
saves into); beside it, `<name>.expected.json` says what the response must be
(`data/schemas/expected.schema.json`).
"""
