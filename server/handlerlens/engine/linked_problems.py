"""One mistake seen from both places a function lives (its declaration and its Python file)
reported once, where its fix goes, with the other place as related information and an
echo there that leads back."""

from __future__ import annotations

import os
from dataclasses import replace

from handlerlens.core.problems import Problem, Severity

# Mistakes whose fix goes in the declaration: the entry point names a function the module
# does not have (a typo on either side, but the declaration is what deploy reads). Every other
# mistake seen from both places is the Python file's (`handler = 42`, a syntax error).
_AT_DECLARATION = frozenset({"entry-point-function-missing"})


def linked(problems: list[Problem], declared_in: str | None) -> list[Problem]:
    """One mistake seen from both places (the declaration and the Python file) is reported
    once — at the declaration for a misspelt entry point, else in the Python file — naming the
    other place as related information; the other place keeps it as a hint (an echo) that
    leads back. Editors show the hint there; `check` and Problems count the mistake once."""
    if declared_in is None:
        return problems
    on_config = {p.code: p for p in problems if p.path == declared_in}
    on_python = {p.code: p for p in problems if p.path != declared_in}
    if not on_config.keys() & on_python.keys():
        return problems
    out = []
    for p in problems:
        here = p.path == declared_in
        other = (on_python if here else on_config).get(p.code)
        if other is None:
            out.append(p)
            continue
        primary = here == (p.code in _AT_DECLARATION)
        if primary:
            note = (
                f"the module it names: {os.path.basename(other.path)}"
                if here
                else f"the declaration that names it: {os.path.basename(other.path)}"
            )
            out.append(replace(p, related=((other.path, other.span, note),)))
        else:
            note = f"reported in {os.path.basename(other.path)}"
            if other.path == declared_in:
                note = f"reported at the declaration in {os.path.basename(other.path)}"
            out.append(
                replace(
                    p,
                    severity=Severity.HINT,
                    echo=True,
                    related=((other.path, other.span, note),),
                )
            )
    return out
