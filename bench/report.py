"""The markdown report: one table per figure, ratios to HandlerLens, and the goals."""

from __future__ import annotations

from bench.stats import Figure, Goal, Row


def _num(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "req/s":
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _ratio(figure: Figure, row: Row) -> str:
    ratio = figure.ratio(row.subject)
    if ratio is None:
        return "—"
    return f"{ratio:.2f}×"


def render_figure(figure: Figure) -> str:
    """One figure as a markdown section."""
    tail = "p5 (slow tail)" if figure.higher_is_better else "p95"
    ref = figure.row(figure.reference)
    ratio_head = f"÷ {figure.reference}" if ref is not None and ref.median else "ratio"
    out = [
        f"### {figure.title}",
        "",
        f"| subject | median ({figure.unit}) | {tail} ({figure.unit}) | n | {ratio_head} | notes |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in figure.rows:
        if row.missing and not row.samples:
            out.append(f"| {row.subject} | — | — | 0 | — | {row.missing} |")
            continue
        note = "; ".join(x for x in (row.note, row.missing) if x)
        out.append(
            f"| {row.subject} | {_num(row.median, figure.unit)} "
            f"| {_num(row.tail(figure.higher_is_better), figure.unit)} | {len(row.samples)} "
            f"| {_ratio(figure, row)} | {note} |"
        )
    out.append("")
    for note in figure.notes:
        out.append(f"{note}")
        out.append("")
    return "\n".join(out)


def render_goals(goals: list[Goal]) -> str:
    """The goals table."""
    out = [
        "| issue | goal | measured | status |",
        "|---|---|---|---|",
    ]
    for goal in goals:
        status = {True: "**met**", False: "**not met**", None: "not measured"}[goal.met]
        out.append(f"| #{goal.issue} | {goal.text} | {goal.measured} | {status} |")
    out.append("")
    return "\n".join(out)


def render(header: list[str], goals: list[Goal], sections: list[tuple[str, list[Figure]]]) -> str:
    """The whole report."""
    parts = ["\n".join(header), "## Goals", "", render_goals(goals)]
    for title, figures in sections:
        parts.append(f"## {title}\n")
        parts.extend(render_figure(f) for f in figures)
    return "\n".join(parts).rstrip() + "\n"
