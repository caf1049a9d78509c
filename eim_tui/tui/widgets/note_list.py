"""How diagnosis notes read on screen: one option per note, whys numbered as a chain, and the
prompt the editor shows for the note about to be written."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from eim_tui.domain.model import DiagnosisNote, HypothesisStatus, Incident, NoteKind

KIND_TITLES = {
    NoteKind.OBSERVATION: "Observation",
    NoteKind.HYPOTHESIS: "Hypothesis",
    NoteKind.TEST: "Test / replication",
    NoteKind.FINDING: "Finding",
    NoteKind.WHY: "Why",
    NoteKind.ROOT_CAUSE: "Root cause",
    NoteKind.ACTION: "Action",
}

_STATUS_STYLE = {HypothesisStatus.OPEN: "bold", HypothesisStatus.CONFIRMED: "bold green",
                 HypothesisStatus.REJECTED: "bold red strike"}


def why_numbers(notes: Sequence[DiagnosisNote]) -> dict[int, int]:
    """Note id → its place in the five-whys chain (Why 1, Why 2, …), in the notes' order."""
    whys = [n for n in notes if n.kind is NoteKind.WHY]
    return {n.id: i for i, n in enumerate(whys, start=1)}


def heading(note: DiagnosisNote, notes: Sequence[DiagnosisNote]) -> str:
    if note.kind is NoteKind.WHY:
        return f"Why {why_numbers(notes)[note.id]}"
    return KIND_TITLES[note.kind]


def render_note(note: DiagnosisNote, notes: Sequence[DiagnosisNote], incident: Incident | None) -> Text:
    line = Text()
    line.append(f"{note.position:>3} ", "dim")
    line.append(heading(note, notes), "bold")
    if note.status is not None:
        line.append(" ")
        line.append(f"[{note.status.value}]", _STATUS_STYLE[note.status])
    if note.kind is NoteKind.ROOT_CAUSE and incident is not None and incident.root_cause == note.text:
        line.append(" ★ recorded on the incident", "italic")
    line.append(f" · {note.author} {note.created_at.astimezone():%H:%M}", "dim")
    if note.updated_at is not None:
        line.append(f" (edited {note.updated_at.astimezone():%H:%M})", "dim italic")
    line.append("\n")
    line.append(_indent(note.text))
    if note.kind is NoteKind.TEST:
        line.append("\n")
        line.append("    → what happened: ", "dim")
        line.append(note.result or "(not recorded yet — enter to add it)", "" if note.result else "dim italic")
    return line


def _indent(text: str) -> Text:
    return Text("\n".join("    " + row for row in text.splitlines() or [""]))


def prompt_for(kind: NoteKind, notes: Sequence[DiagnosisNote], incident: Incident | None,
               editing: DiagnosisNote | None = None) -> Text:
    """What the editor asks. For the next why, it quotes the why it answers."""
    text = Text()
    if editing is not None:
        text.append(f"Editing {heading(editing, notes).lower()} #{editing.position}", "bold")
        text.append(" — the old text stays in the timeline")
        return text
    if kind is NoteKind.WHY:
        count = len(why_numbers(notes))
        previous = next((n for n in reversed(notes) if n.kind is NoteKind.WHY), None)
        text.append(f"Why {count + 1}", "bold")
        asked = previous.text if previous else (incident.title if incident else "the incident")
        text.append(" — why did this happen: “")
        text.append(asked, "italic")
        text.append("”?")
        if count >= 5:
            text.append("  (five whys reached: c records the root cause)", "dim")
        return text
    questions = {
        NoteKind.OBSERVATION: "what do you see? (symptoms, logs, metrics)",
        NoteKind.HYPOTHESIS: "what might be causing it? (it starts open; s confirms or rejects it)",
        NoteKind.TEST: "what was done to test or replicate it?",
        NoteKind.FINDING: "what is now known for certain?",
        NoteKind.ROOT_CAUSE: "the cause that, removed, stops it happening (recorded on the incident)",
        NoteKind.ACTION: "what will be done, and by whom?",
    }
    text.append(f"New {KIND_TITLES[kind].lower()}", "bold")
    text.append(f" — {questions[kind]}")
    return text


class NoteList(OptionList):
    """The incident's notes in order; the highlight follows the same note across reloads."""

    def show(self, notes: Sequence[DiagnosisNote], incident: Incident | None) -> None:
        keep = self.highlighted_note_id
        self.clear_options()
        if not notes:
            self.add_option(Option(Text("No notes yet. o observation · y hypothesis · e test · f finding · "
                                        "w why · c root cause · i action", style="dim"), disabled=True))
            return
        self.add_options(Option(render_note(n, notes, incident), id=str(n.id)) for n in notes)
        ids = [n.id for n in notes]
        self.highlighted = ids.index(keep) if keep in ids else len(ids) - 1

    @property
    def highlighted_note_id(self) -> int | None:
        if self.highlighted is None or self.option_count == 0:
            return None
        option = self.get_option_at_index(self.highlighted)
        return int(option.id) if option.id else None

    def highlight_note(self, note_id: int) -> None:
        for index in range(self.option_count):
            if self.get_option_at_index(index).id == str(note_id):
                self.highlighted = index
                return
