"""The detail screen's panel of similar past incidents: the resolved ones most like this one
(services/similar.py, the full-text index), each with how it was resolved.

A pure function of what the services found and the palette; user text goes in as plain text.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content

from eim_tui.tui.render.theme_styles import PLAIN, Palette

NOTES_SHOWN = 160  # characters of each resolution: two lines at 80 columns


def similar_panel(found: Sequence, p: Palette = PLAIN, error: str = "") -> Content:
    """`found`: services.similar.ResolvedIncident, best first."""
    lines = [Content.styled("Similar resolved incidents (s hides)", p["heading"])]
    if error:
        lines.append(Content.styled(f"  could not search: {error}", p["bad"]))
    elif not found:
        lines.append(Content.styled("  none yet: no resolved incident shares its words", p["label"]))
    for r in found:
        when = r.resolved_at.astimezone().strftime("%Y-%m-%d") if r.resolved_at else "—"
        lines.append(Content.assemble(
            (r.key, "bold"), " ", (f"{r.state.value:<8} {when} ", p["label"]),
            (f"{r.resolution_code or '—'} ", p["accent"]), r.title,
        ))
        notes = " ".join(r.resolution_notes.split())
        if notes:
            shown = notes if len(notes) <= NOTES_SHOWN else notes[:NOTES_SHOWN - 1] + "…"
            lines.append(Content.assemble("  ", (shown, "italic")))
    return Content("\n").join(lines)
