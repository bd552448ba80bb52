"""What a handler does with its event and context, for checks, completion and hover.

- `cursor`: the text around the cursor, read from its one line (never parsed).
- `facts`: what one function does with its parameters, symbolically (plain data).
- `walk`: reading those facts from the function's `ast`.
- `numeric`: which operands of an operator are used as numbers.
- `inference`: which trigger's event a handler receives (config, annotation, keys read).
- `flow`: where the event and context flow in one module (handlers, aliases, helpers),
  incrementally per text version.
- `repair`: facts of a function that does not parse yet (typing in progress).
- `docs`: Markdown for event keys and context members, shared by completion and hover.
- `checks`: checks on how handlers read the event and context (unknown keys, attributes).
- `completion`: the keys and attributes offered at the cursor.
- `hover`: the text shown over a key or attribute.
"""
