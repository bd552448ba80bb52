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


def sam_rest(node: yaml.Node | None) -> Cors | None:
    """SAM `Cors` of a REST API."""
    if node is None:
        return None
    single = yn.as_str(node)
    if single is not None:
        return (("style", "rest"), ("origin", _unquoted(single)))
    if not isinstance(node, yaml.MappingNode):
        return None
    pairs = [("style", "rest")]
    for key, name in (
        ("AllowOrigin", "origin"),
        ("AllowMethods", "methods"),
        ("AllowHeaders", "headers"),
        ("MaxAge", "max_age"),
    ):
        value = _text(yn.get(node, key))
        if value:
            pairs.append((name, _unquoted(value)))
    if _true(yn.get(node, "AllowCredentials")):
        pairs.append(("credentials", "true"))
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
    pairs = [("style", "http")]
    for key, name in (
        ("AllowOrigins", "origin"),
        ("AllowMethods", "methods"),
        ("AllowHeaders", "headers"),
        ("ExposeHeaders", "expose"),
        ("MaxAge", "max_age"),
    ):
        value = _listed(yn.get(node, key))
        if value:
            pairs.append((name, value))
    if _true(yn.get(node, "AllowCredentials")):
        pairs.append(("credentials", "true"))
    return tuple(pairs)


def serverless_rest(node: yaml.Node | None) -> Cors | None:
    """`cors:` of a serverless.yml `http` event."""
    if node is None or (_text(node) or "").lower() == "false":
        return None
    if _true(node):
        return (("style", "rest"), ("origin", "*"), ("headers", SERVERLESS_HEADERS))
    if not isinstance(node, yaml.MappingNode):
        return None
    origin = _listed(yn.get(node, "origins")) or _text(yn.get(node, "origin")) or "*"
    pairs = [
        ("style", "rest"),
        ("origin", origin),
        ("headers", _listed(yn.get(node, "headers")) or SERVERLESS_HEADERS),
    ]
    max_age = _text(yn.get(node, "maxAge"))
    if max_age:
        pairs.append(("max_age", max_age))
    if _true(yn.get(node, "allowCredentials")):
        pairs.append(("credentials", "true"))
    return tuple(pairs)


def serverless_http(node: yaml.Node | None) -> Cors | None:
    """`provider.httpApi.cors` of a serverless.yml."""
    if node is None or (_text(node) or "").lower() == "false":
        return None
    if _true(node):
        return (("style", "http"), ("origin", "*"), ("headers", SERVERLESS_HEADERS))
    if not isinstance(node, yaml.MappingNode):
        return None
    pairs = [("style", "http")]
    for key, name in (
        ("allowedOrigins", "origin"),
        ("allowedMethods", "methods"),
        ("allowedHeaders", "headers"),
        ("exposedResponseHeaders", "expose"),
        ("maxAge", "max_age"),
    ):
        value = _listed(yn.get(node, key))
        if value:
            pairs.append((name, value))
    if _true(yn.get(node, "allowCredentials")):
        pairs.append(("credentials", "true"))
    return tuple(pairs)


def yandex(rule: yaml.Node | None) -> Cors | None:
    """One `x-yc-apigateway-cors` rule (already `$ref`-resolved); `origin: false` turns CORS
    handling off (the preflight goes to the integration): None."""
    if not isinstance(rule, yaml.MappingNode):
        return None
    origin_node = yn.get(rule, "origin")
    if origin_node is None or (_text(origin_node) or "").lower() == "false":
        return None
    pairs = [("style", "yandex"), ("origin", _listed(origin_node) or "true")]
    for key, name in (
        ("methods", "methods"),
        ("allowedHeaders", "headers"),
        ("exposedHeaders", "expose"),
        ("maxAge", "max_age"),
        ("optionsSuccessStatus", "status"),
    ):
        value = _listed(yn.get(rule, key))
        if value:
            pairs.append((name, value))
    if _true(yn.get(rule, "credentials")):
        pairs.append(("credentials", "true"))
    return tuple(pairs)
