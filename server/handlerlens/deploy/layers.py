"""How a declaring file gives its functions layers, read by text (the deploy checks and the
runner's "works here, would fail deployed" note share these)."""

from __future__ import annotations

import re

# A declaring file whose function has layers.
LAYERS = re.compile(r"(?m)^\s*(?:Layers\s*:|layers\s*[:=])|\"Layers\"\s*:")
# A SAM layer built from a folder: `ContentUri: layers/common` (not `!Ref`, S3 or `${…}`).
LAYER_FOLDER = {
    "sam": re.compile(r"(?m)^\s*ContentUri\s*:\s*([\"']?[\w./-]+[\"']?)\s*$"),
    "serverless": re.compile(r"(?m)^\s*path\s*:\s*([\"']?[\w.-][\w./-]*[\"']?)\s*$"),
    "terraform": re.compile(r'source_dir\s*=\s*"(?:\$\{path\.module\}/)?([\w.-][\w./-]*)"'),
}
