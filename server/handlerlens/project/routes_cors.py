"""CORS as each gateway declares it, read into one plain shape for the served gateway.

- SAM `Cors` on an `AWS::Serverless::Api` (or `Globals.Api`): a string (the allowed origin)
  or `{AllowOrigin, AllowMethods, AllowHeaders, MaxAge, AllowCredentials}`, values quoted
  (`"'*'"`); the REST API then answers OPTIONS itself [SAMT swagger/swagger.py `add_cors`].
- SAM `CorsConfiguration` on an `AWS::Serverless::HttpApi` (or `Globals.HttpApi`): `true` or
  `{AllowOrigins, AllowMethods, AllowHeaders, ExposeHeaders, MaxAge, AllowCredentials}`.
- serverless.yml: `cors: true` or `{origin, origins, headers, allowCredentials, maxAge}` on an
  `http` event; `provider.httpApi.cors: true` or `{allowedOrigins, allowedHeaders,
  allowedMethods, allowCredentials, exposedResponseHeaders, maxAge}`.
- Yandex API Gateway: `x-yc-apigateway-cors` on a path item (or a `$ref` to
  `components.x-yc-apigateway-cors-rules`), else `x-yc-apigateway.cors` for the whole spec:
  `{origin, methods, allowedHeaders, exposedHeaders, credentials, maxAge,
  optionsSuccessStatus}` (PLATFORMS.md §10.5).

The shape (`Cors`): (key, value) pairs — `style` (`rest`, `http`, `yandex`), `origin` (`*`,
`true` to echo the request's, or the allowed origins comma-joined), `methods`, `headers`,
`expose`, `max_age`, `credentials` (`true`), `status`. None: no CORS declared.
"""

from __future__ import annotations

from collections.abc import Callable

import yaml

from handlerlens.project import yaml_nodes as yn

Cors = tuple[tuple[str, str], ...]

# What the Serverless Framework allows by default with `cors: true`.
SERVERLESS_HEADERS = (
    "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token,X-Amz-User-Agent,"
    "X-Amzn-Trace-Id"
)


def _text(node: yaml.Node | None) -> str | None:
    return yn.as_plain_text(node)


def _unquoted(text: str) -> str:
    """SAM's `Cors` values are quoted strings: `"'*'"` is `*`."""
    text = text.strip()
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text


def _listed(node: yaml.Node | None) -> str | None:
    """A list (or one value) as a comma-joined text."""
    items = [_text(item) for item in yn.sequence(node)] if node is not None else []
    if isinstance(node, yaml.SequenceNode):
        return ",".join(item for item in items if item) or None
    return _text(node)


def _true(node: yaml.Node | None) -> bool:
    return (_text(node) or "").lower() == "true"


def _declared(
    node: yaml.MappingNode,
    fields: tuple[tuple[str, str], ...],
    credentials: str,
    read: Callable[[yaml.Node | None], str | None] = _listed,
    clean: Callable[[str], str] = str,
) -> list[tuple[str, str]]:
    """The (name, value) pairs of the `fields` (declared key, name in the shape) that `node`
    gives a value, as `read` reads it and `clean` cleans it; then credentials, if its key
    (`credentials`) is true."""
    pairs = []
    for key, name in fields:
        value = read(yn.get(node, key))
        if value:
            pairs.append((name, clean(value)))
    if _true(yn.get(node, credentials)):
        pairs.append(("credentials", "true"))
    return pairs


def sam_rest(node: yaml.Node | None) -> Cors | None:
    """SAM `Cors` of a REST API."""
    if node is None:
        return None
    single = yn.as_str(node)
    if single is not None:
        return (("style", "rest"), ("origin", _unquoted(single)))
    if not isinstance(node, yaml.MappingNode):
        return None
    fields = (
        ("AllowOrigin", "origin"),
        ("AllowMethods", "methods"),
        ("AllowHeaders", "headers"),
        ("MaxAge", "max_age"),
    )
    pairs = [("style", "rest"), *_declared(node, fields, "AllowCredentials", _text, _unquoted)]
    if not any(name == "origin" for name, _ in pairs):
        return None  # SAM requires AllowOrigin
    return tuple(pairs)


def sam_http(node: yaml.Node | None) -> Cors | None:
    """SAM `CorsConfiguration` of an HTTP API."""
    if node is None:
        return None
    if _true(node):
        return (("style", "http"), ("origin", "*"), ("methods", "*"), ("headers", "*"))
    if not isinstance(node, yaml.MappingNode):
        return None
    fields = (
        ("AllowOrigins", "origin"),
        ("AllowMethods", "methods"),
        ("AllowHeaders", "headers"),
        ("ExposeHeaders", "expose"),
        ("MaxAge", "max_age"),
    )
    return (("style", "http"), *_declared(node, fields, "AllowCredentials"))


def serverless_rest(node: yaml.Node | None) -> Cors | None:
    """`cors:` of a serverless.yml `http` event."""
    if node is None or (_text(node) or "").lower() == "false":
        return None
    if _true(node):
        return (("style", "rest"), ("origin", "*"), ("headers", SERVERLESS_HEADERS))
    if not isinstance(node, yaml.MappingNode):
        return None
    origin = _listed(yn.get(node, "origins")) or _text(yn.get(node, "origin")) or "*"
    return (
        ("style", "rest"),
        ("origin", origin),
        ("headers", _listed(yn.get(node, "headers")) or SERVERLESS_HEADERS),
        *_declared(node, (("maxAge", "max_age"),), "allowCredentials", _text),
    )


def serverless_http(node: yaml.Node | None) -> Cors | None:
    """`provider.httpApi.cors` of a serverless.yml."""
    if node is None or (_text(node) or "").lower() == "false":
        return None
    if _true(node):
        return (("style", "http"), ("origin", "*"), ("headers", SERVERLESS_HEADERS))
    if not isinstance(node, yaml.MappingNode):
        return None
    fields = (
        ("allowedOrigins", "origin"),
        ("allowedMethods", "methods"),
        ("allowedHeaders", "headers"),
        ("exposedResponseHeaders", "expose"),
        ("maxAge", "max_age"),
    )
    return (("style", "http"), *_declared(node, fields, "allowCredentials"))


def yandex(rule: yaml.Node | None) -> Cors | None:
    """One `x-yc-apigateway-cors` rule (already `$ref`-resolved); `origin: false` turns CORS
    handling off (the preflight goes to the integration): None."""
    if not isinstance(rule, yaml.MappingNode):
        return None
    origin_node = yn.get(rule, "origin")
    if origin_node is None or (_text(origin_node) or "").lower() == "false":
        return None
    fields = (
        ("methods", "methods"),
        ("allowedHeaders", "headers"),
        ("exposedHeaders", "expose"),
        ("maxAge", "max_age"),
        ("optionsSuccessStatus", "status"),
    )
    origin = _listed(origin_node) or "true"
    return (("style", "yandex"), ("origin", origin), *_declared(rule, fields, "credentials"))
