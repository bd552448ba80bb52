"""Values the route readers take from declarations beyond the route itself: stage variables,
integration timeouts, a Yandex operation's declared parameters and integration context, and
local `$ref`s in a spec (the project/routes_*.py readers use them)."""

from __future__ import annotations

import json

import yaml

from handlerlens.project import yaml_nodes as yn


def variables(node: yaml.Node | None) -> tuple[tuple[str, str], ...]:
    """A stage's `Variables` map, its literal values only (a computed one is left out)."""
    found = []
    for name, value in yn.items(node):
        text = yn.as_plain_text(value)
        if text is not None:
            found.append((name, text))
    return tuple(found)


def millis(node: yaml.Node | None) -> int | None:
    """A literal integration timeout in milliseconds; None when absent or computed."""
    text = yn.as_plain_text(node)
    return int(text) if text is not None and text.isdigit() else None


def json_text(node: yaml.Node | None) -> str | None:
    """A YAML value (a map of literals, as a Yandex integration's `context`) as JSON text;
    None when absent."""
    if node is None:
        return None

    def value(item: yaml.Node) -> object:
        if isinstance(item, yaml.MappingNode):
            return {key: value(inner) for key, inner in yn.items(item)}
        if isinstance(item, yaml.SequenceNode):
            return [value(inner) for inner in item.value]
        number = yn.as_number(item)
        if number is not None and yn.as_str(item) is None:
            return int(number) if number.is_integer() else number
        text = yn.as_plain_text(item)
        if text in ("true", "false") and yn.as_str(item) is None:
            return text == "true"
        return text

    return json.dumps(value(node), ensure_ascii=False)


def parameters(
    doc: yaml.Node, item: yaml.Node, operation: yaml.Node
) -> tuple[tuple[str, str], ...]:
    """The parameters an operation declares, its path item's first (the operation's own
    replace one of the same name and place), as (name, `in`) pairs; `$ref`s followed."""
    found: dict[tuple[str, str], None] = {}
    for node in (item, operation):
        for declared in yn.sequence(yn.get(node, "parameters")):
            parameter = resolve_ref(doc, declared)
            name = yn.as_plain_text(yn.get(parameter, "name"))
            where = yn.as_str(yn.get(parameter, "in"))
            if name and where in ("path", "query", "header", "cookie"):
                found[(name, where)] = None
    return tuple(found)


def resolve_ref(doc: yaml.Node, node: yaml.Node | None) -> yaml.Node | None:
    """Follow a local `$ref: '#/components/…'` (shared integrations): None when it leads
    nowhere or out of the spec; a node without `$ref` as it is."""
    ref_node = yn.get(node, "$ref")
    if ref_node is None:
        return node
    ref = yn.as_str(ref_node) or ""
    if not ref.startswith("#/"):
        return None
    target: yaml.Node | None = doc
    for part in ref[2:].split("/"):
        target = yn.get(target, part.replace("~1", "/").replace("~0", "~"))
    return target


STATUS_MAPPING = "x-yc-status-mapping"


def status_mapping(
    doc: yaml.Node, operation: yaml.Node
) -> tuple[tuple[tuple[int, int], ...], list[tuple[yaml.Node, str]]]:
    """A Yandex operation's `x-yc-status-mapping`s (extensions/status-mapping.md): on the
    response object of status `code` under `responses`, the status the client gets instead
    when the integration answers `code`; as (code, new) pairs, `$ref`s followed. Also each
    mapping that cannot apply, with why: a value that is no HTTP status, or one on a response
    that is no single status (`default`, `2XX`)."""
    found: list[tuple[int, int]] = []
    wrong: list[tuple[yaml.Node, str]] = []
    for code, response in yn.items(yn.get(operation, "responses")):
        node = yn.get(resolve_ref(doc, response), STATUS_MAPPING)
        if node is None:
            continue
        value = yn.as_plain_text(node) or ""
        if not (code.isdigit() and 100 <= int(code) <= 599):
            wrong.append((node, f"it is on the response '{code}', not on one status code"))
        elif not (value.isdigit() and 100 <= int(value) <= 599):
            wrong.append((node, f"'{value}' is not an HTTP status code (100-599)"))
        else:
            found.append((int(code), int(value)))
    return tuple(found), wrong
