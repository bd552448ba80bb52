"""How a declaring file gives its functions layers, read by text (the deploy checks and the
runner's "works here, would fail deployed" note share these)."""

from __future__ import annotations

import os
import re

from handlerlens.core.text import read_lenient

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

# A declaring file whose function has layers.
LAYERS = re.compile(r"(?m)^\s*(?:Layers\s*:|layers\s*[:=])|\"Layers\"\s*:")
# A SAM layer built from a folder: `ContentUri: layers/common` (not `!Ref`, S3 or `${…}`).
LAYER_FOLDER = {
    "sam": re.compile(r"(?m)^\s*ContentUri\s*:\s*([\"']?[\w./-]+[\"']?)\s*$"),
    "serverless": re.compile(r"(?m)^\s*path\s*:\s*([\"']?[\w.-][\w./-]*[\"']?)\s*$"),
    "terraform": re.compile(r'source_dir\s*=\s*"(?:\$\{path\.module\}/)?([\w.-][\w./-]*)"'),
}


# -- a function's local layers, as the runner puts them on sys.path ---------------------------
# Lambda unpacks each layer into /opt; Python then finds `/opt/python/lib/python3.X/
# site-packages` and `/opt/python` (AWS DG packaging-layers.html, "Layer paths for each Lambda
# runtime"; PLATFORMS.md §11.2). A local layer is a folder (or a zip) of the project; the runner
# puts the same two folders of it on the function's sys.path, after the code root.

SAM_LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")


class FunctionLayers:
    """What a function's declared layers give it locally (a plain class: `invoke` reads it)."""

    __slots__ = ("paths", "roots", "missing", "remote")

    def __init__(self) -> None:
        # sys.path entries, in the layers' declared order.
        self.paths: list[str] = []
        # The local layers' folders (what Lambda unpacks into /opt), in the same order.
        self.roots: list[str] = []
        # (layer, its location as written) for each local layer that is not there.
        self.missing: list[tuple[str, str]] = []
        # The layers that are not in the project (ARNs, parameters, S3 locations), as written.
        self.remote: list[str] = []


def layer_entries(location: str, runtime: str | None) -> list[str]:
    """The sys.path entries of a layer unpacked from `location` (a folder or a .zip): its
    `python/lib/python3.X/site-packages` and `python/` as Lambda's Python finds them; the
    location itself when it has no `python/` (a folder `sam build` has not built yet)."""
    version = runtime[len("python") :] if runtime and runtime.startswith("python3") else None
    if os.path.isfile(location):
        import zipfile

        try:
            with zipfile.ZipFile(location) as archive:
                names = archive.namelist()
        except (OSError, zipfile.BadZipFile):
            return []
        inside = [n for n in names if n.startswith("python/")]
        if not inside:
            return [location]
        found = [os.path.join(location, "python")]
        prefixes = [
            n.split("/site-packages/")[0] + "/site-packages"
            for n in inside
            if "/site-packages/" in n and n.startswith("python/lib/python3")
        ]
        for prefix in dict.fromkeys(prefixes):
            if version is None or prefix == f"python/lib/python{version}/site-packages":
                found.insert(0, os.path.join(location, *prefix.split("/")))
        return found
    python = os.path.join(location, "python")
    if not os.path.isdir(python):
        return [location]
    found = [python]
    lib = os.path.join(python, "lib")
    versions = [version] if version else []
    if not versions and os.path.isdir(lib):
        versions = [n[len("python") :] for n in sorted(os.listdir(lib)) if n.startswith("python3")]
    for number in versions:
        site = os.path.join(lib, f"python{number}", "site-packages")
        if os.path.isdir(site):
            found.insert(0, site)
    return found


def _add_local(
    result: FunctionLayers,
    declared_in: str,
    layer: str,
    written: str,
    runtime: str | None,
) -> None:
    location = os.path.normpath(os.path.join(os.path.dirname(declared_in), written))
    if not os.path.exists(location):
        result.missing.append((layer, written))
        return
    if os.path.isdir(location) and location not in result.roots:
        result.roots.append(location)
    result.paths += [p for p in layer_entries(location, runtime) if p not in result.paths]


def sam_layers(
    declared_in: str,
    function: str,
    runtime: str | None,
    parameters: Mapping[str, str],
) -> FunctionLayers:
    """The layers of the template's function `function`: Globals' first, then its own, as SAM
    merges lists (its Globals docs: "lists are additive"); `!Ref X` of a LayerVersion of the
    template with a local `ContentUri` (AWS::Lambda::LayerVersion: `Content`) is local; an ARN,
    a parameter (`parameters` its value) or an S3 location is not."""
    from handlerlens.project import yaml_nodes as yn

    result = FunctionLayers()
    doc = template_doc(declared_in)
    if doc is None:
        return result
    resources = dict(yn.items(yn.get(doc, "Resources")))
    resource = resources.get(function)
    props = yn.get(resource, "Properties")
    kind = yn.as_str(yn.get(resource, "Type"))
    nodes = yn.sequence(yn.get(props, "Layers"))
    if kind == "AWS::Serverless::Function":
        nodes = yn.sequence(yn.get_path(doc, "Globals", "Function", "Layers")) + nodes
    for node in nodes:
        ref = _ref(node)
        target = resources.get(ref) if ref is not None else None
        target_kind = yn.as_str(yn.get(target, "Type"))
        if ref is None or target_kind not in SAM_LAYER_TYPES:
            written = parameters.get(ref, f"!Ref {ref}") if ref else _written(node)
            result.remote.append(written)
            continue
        key = "ContentUri" if target_kind == SAM_LAYER_TYPES[0] else "Content"
        content = yn.as_str(yn.get(yn.get(target, "Properties"), key))
        if content is None or "://" in content or "${" in content:
            result.remote.append(f"{ref} ({key} is not a folder of the project)")
            continue
        _add_local(result, declared_in, ref, content.strip(), runtime)
    return result


def _ref(node: Any) -> str | None:
    from handlerlens.project import yaml_nodes as yn

    if getattr(node, "tag", None) == "!Ref":
        return str(node.value)
    return yn.as_str(yn.get(node, "Ref"))


def _written(node: Any) -> str:
    value = getattr(node, "value", None)
    return value if isinstance(value, str) else "a computed value"


_TEMPLATES: dict[str, tuple[float, Any]] = {}


def template_doc(path: str) -> Any:
    """The template's YAML node graph (None when it does not parse), read once per change."""
    from handlerlens.project import yaml_nodes as yn

    try:
        stamp = os.stat(path).st_mtime
        cached = _TEMPLATES.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        with open(path, encoding="utf-8", errors="replace") as file:
            text = file.read()
    except OSError:
        return None
    doc = yn.parse(path, text, "CloudFormation template")[0]
    _TEMPLATES[path] = (stamp, doc)
    return doc


def terraform_layers(declared_in: str, function: str, runtime: str | None) -> FunctionLayers:
    """The layers of the `aws_lambda_function` named `function` (its label or function_name)
    in the declaring file's folder: `aws_lambda_layer_version.x.arn` with a local `source_dir`
    or `filename` (a zip, or an `archive_file`'s `output_path` read as its `source_dir`)."""
    from handlerlens.project import hcl_tree as hcl
    from handlerlens.project.terraform_files import parsed_folder

    result = FunctionLayers()
    blocks: dict[tuple[str, str, str], Any] = {}
    for text, parsed in parsed_folder(os.path.dirname(declared_in)):
        for block in parsed:
            if block.type in ("resource", "data") and len(block.labels) == 2:
                blocks[(block.type, block.labels[0], block.labels[1])] = (block, text)
    chosen = None
    for (kind, rtype, label), (block, text) in blocks.items():
        if kind == "resource" and rtype == "aws_lambda_function":
            named = _tf_text(block.attributes.get("function_name"), text)
            if function in (label, named):
                chosen = (block, text)
                break
    if chosen is None or "layers" not in chosen[0].attributes:
        return result
    block, text = chosen
    attr = block.attributes["layers"]
    items = hcl.tuple_items(attr.expr) or []
    for item in items:
        names = hcl.traversal(item)
        if not names or names[0] != "aws_lambda_layer_version" or len(names) < 2:
            start, end = hcl.span_of(item)
            result.remote.append(text[start:end].strip() or "a computed value")
            continue
        found = blocks.get(("resource", "aws_lambda_layer_version", names[1]))
        what = f"aws_lambda_layer_version.{names[1]}"
        if found is None:
            result.remote.append(f"{what} (not declared beside {os.path.basename(declared_in)})")
            continue
        layer, layer_text = found
        written = _tf_path(layer.attributes.get("source_dir"), layer_text)
        if written is None:
            filename = layer.attributes.get("filename")
            written = _tf_path(filename, layer_text)
            ref = hcl.traversal(filename.expr) if filename is not None else None
            if written is None and ref and len(ref) >= 3 and ref[:2] == ["data", "archive_file"]:
                archive = blocks.get(("data", "archive_file", ref[2]))
                if archive is not None:
                    written = _tf_path(archive[0].attributes.get("source_dir"), archive[1])
        if written is None:
            result.remote.append(f"{what} (its content is not a folder or zip of the project)")
            continue
        _add_local(result, declared_in, what, written, runtime)
    return result


def serverless_logical_id(layer: str) -> str:
    """The CloudFormation logical id Serverless gives the layer `layer:` names (its naming.js
    getLambdaLayerLogicalId: `-` → `Dash`, `_` → `Underscore`, the first letter upper case,
    then `LambdaLayer`): what a function's `{Ref: …}` names."""
    normal = layer.replace("-", "Dash").replace("_", "Underscore")
    return normal[:1].upper() + normal[1:] + "LambdaLayer"


def serverless_layers(declared_in: str, function: str, runtime: str | None) -> FunctionLayers:
    """The layers of serverless.yml's function `function`: its `layers:`, else the
    provider's (Serverless uses the function's list instead of the provider's, not both);
    `{Ref: NameLambdaLayer}` (or `!Ref`) of a top-level `layers: {name: {path: …}}` entry
    is local (its `path` folder, or its `package.artifact` zip); an ARN or a variable is not."""
    from handlerlens.project import yaml_nodes as yn
    from handlerlens.project.serverless_config import function_entries

    result = FunctionLayers()
    doc = template_doc(declared_in)
    if doc is None:
        return result
    node = dict(function_entries(doc)).get(function)
    provider = yn.get(doc, "provider")
    declared = {
        serverless_logical_id(name): (name, entry)
        for name, entry in yn.items(yn.get(doc, "layers"))
    }
    for item in yn.sequence(yn.first(yn.get(node, "layers"), yn.get(provider, "layers"))):
        ref = _ref(item)
        found = declared.get(ref) if ref is not None else None
        if found is None:
            result.remote.append(f"{{Ref: {ref}}}" if ref else _written(item))
            continue
        name, entry = found
        written = yn.as_str(yn.get(entry, "path"))
        if written is None:
            written = yn.as_str(yn.get_path(entry, "package", "artifact"))
        if written is None or "${" in written or "://" in written:
            result.remote.append(f"{ref} (its path is not a folder or zip of the project)")
            continue
        _add_local(result, declared_in, name, written.strip(), runtime)
    return result


def _tf_text(attr: Any, text: str) -> str | None:
    if attr is None:
        return None
    source = text[attr.start : attr.end].strip()
    if len(source) >= 2 and source[0] == source[-1] == '"' and "${" not in source:
        return source[1:-1]
    return None


def _tf_path(attr: Any, text: str) -> str | None:
    """A path written `"layers/x"` or `"${path.module}/layers/x"`, else None."""
    if attr is None:
        return None
    source = text[attr.start : attr.end].strip()
    if not (len(source) >= 2 and source[0] == source[-1] == '"'):
        return None
    value = source[1:-1]
    for prefix in ("${path.module}/", "${path.root}/"):
        value = value.removeprefix(prefix)
    return None if "${" in value else value


def function_layers(
    declared_by: str | None,
    declared_in: str | None,
    function: str,
    runtime: str | None,
    parameters: Mapping[str, str],
) -> FunctionLayers | None:
    """The function's layers when its declaring file gives it any (`LAYERS`), else None."""
    if not declared_in or declared_by not in ("sam", "serverless", "terraform"):
        return None
    text = read_lenient(declared_in)
    if text is None:
        return None
    if declared_by == "sam":
        if not LAYERS.search(text):
            return None
        return sam_layers(declared_in, function, runtime, parameters)
    if declared_by == "serverless":
        if not LAYERS.search(text):
            return None
        return serverless_layers(declared_in, function, runtime)
    if "layers" not in text:
        return None
    return terraform_layers(declared_in, function, runtime)
