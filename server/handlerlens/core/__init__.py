"""The ground floor: the vocabulary every other floor shares, importing none of them.

- `problems`: problems (diagnostics), their severities, fixes, spans and positions.
- `text`: decoding source files, splitting lines as LSP counts them, UTF-16 columns, and
  `LineIndex`: `ast` locations and code-point offsets to LSP positions.
- `statements`: where a module's top-level statements start, found without parsing.
- `python_module`: what a Python module binds at top level, read with `ast` alone.
- `model`: the function model, one cloud function as it is declared (`FunctionSpec`).
"""
