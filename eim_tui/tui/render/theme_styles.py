"""Theme colours for text drawn as `Content`: severity, SLA state, headings, muted labels.

Inline `$variables` in Content styles resolve only one level deep, and eim's own variables
(`$sev-1` → `$error`) are two, so screens that draw Content declare these component classes
(`COMPONENT_CLASSES = PALETTE_CLASSES`), `styles/app.tcss` colours them with the theme variables,
and `palette(widget)` hands the resolved styles to the drawing code. Every colour also comes with
a text label where it is used, so NO_COLOR reads right.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.style import Style
from textual.widget import Widget

NAMES = (
    "heading", "label", "accent", "good", "bad", "major",
    "sev-1", "sev-2", "sev-3", "sev-4", "sev-5",
    "sla-ok", "sla-warning", "sla-breached", "sla-paused",
)
PALETTE_CLASSES = {f"eim--{name}" for name in NAMES}

Palette = Mapping[str, Style | str]

# For drawing without a widget (tests, plain text): emphasis only.
PLAIN: Palette = {name: ("bold" if name in ("heading", "bad", "major", "sla-breached", "sla-warning") else "")
                  for name in NAMES}


def palette(widget: Widget) -> Palette:
    """The palette styles as the widget's CSS resolves them now (follows theme changes)."""
    return {name: widget.get_visual_style(f"eim--{name}", partial=True) for name in NAMES}
