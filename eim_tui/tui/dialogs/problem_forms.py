"""The problem screens' forms: a new problem, link an incident, record the known error, resolve,
close. Each knows the ONE use case it calls (`call`), so the screens run any of them the same way:
in a worker, opening the form again with the typed text and the reason when it is refused.
"""

from __future__ import annotations

from typing import Any

from eim_tui.domain.errors import DomainError
from eim_tui.domain.model import format_key, parse_key
from eim_tui.domain.problems import Problem
from eim_tui.reference.data import ReferenceData
from eim_tui.tui.dialogs.form import Field, FormScreen


class ProblemForm(FormScreen):
    """A form whose values go to one problem use case. Subclasses write `form_fields` and `call`."""

    FORM_TITLE = "Problem"

    def __init__(self, problem: Problem | None = None, prefill: dict[str, Any] | None = None, message: str = "") -> None:
        self.problem = problem
        super().__init__(prefill, message)

    def form_title(self) -> str:
        return self.FORM_TITLE + (f" · {self.problem.key}" if self.problem is not None else "")

    def again(self, values: dict[str, Any], message: str) -> ProblemForm:
        """The same form, opened again with what was typed and why it was refused."""
        return type(self)(self.problem, values, message)

    def call(self, cases, actor: str, values: dict[str, Any]) -> str:
        """Run the use case (`services.problems.ProblemCases`); what to tell the user."""
        raise NotImplementedError


class NewProblemForm(ProblemForm):
    FORM_TITLE = "New problem"

    def __init__(self, ref: ReferenceData, prefill: dict[str, Any] | None = None, message: str = "") -> None:
        self.ref = ref
        super().__init__(None, prefill, message)

    def again(self, values: dict[str, Any], message: str) -> ProblemForm:
        return NewProblemForm(self.ref, values, message)

    def form_fields(self) -> list[Field]:
        return [
            Field("title", "Title", required=True, placeholder="what keeps going wrong"),
            Field("service", "Service", kind="select", value=None, options=[(s.name, s.name) for s in self.ref.services],
                  placeholder="(no service)"),
            Field("ci", "Configuration item", placeholder="a CI name, or empty", suggestions=self.ref.item_names),
            Field("category", "Category", kind="select", value=None, options=[(c.name, c.name) for c in self.ref.categories],
                  placeholder="(no category)"),
            Field("group", "Owner group", kind="select", value=None, options=[(g.name, g.name) for g in self.ref.groups],
                  placeholder="(no group)"),
            Field("description", "Description", kind="area"),
        ]

    def call(self, cases, actor, values):
        made = cases.create(actor, values["title"], values["service"] or "", values["ci"].strip(),
                            values["category"] or "", "", values["group"] or "", values["description"])
        return f"{made.key} opened"


class ProblemFromCandidateForm(NewProblemForm):
    """A new problem made of a recurring pattern (the problems screen's Patterns tab, `n`): the
    form comes filled from the candidate, and saving it links every incident of the candidate."""

    FORM_TITLE = "New problem from a recurring pattern"

    def __init__(self, ref: ReferenceData, numbers: tuple[int, ...], prefill: dict[str, Any] | None = None,
                 message: str = "") -> None:
        self.numbers = numbers
        super().__init__(ref, prefill, message)

    @classmethod
    def of(cls, ref: ReferenceData, candidate: Any) -> ProblemFromCandidateForm:  # domain.patterns.Candidate
        services = {s.name for s in ref.services}
        categories = {c.name for c in ref.categories}
        on_service = candidate.anchor_kind == "service" and candidate.anchor in services
        keys = " ".join(format_key(n) for n in candidate.numbers)
        return cls(ref, tuple(candidate.numbers), {
            "title": f"Recurring: {candidate.phrase or candidate.symptom or candidate.subcategory or candidate.category}"
                     f" {'at' if candidate.anchor_kind == 'location' else 'on'} {candidate.anchor}",
            "service": candidate.anchor if on_service else None,
            "ci": candidate.anchor if candidate.anchor_kind == "ci" else "",  # a location is no item
            "category": candidate.category if candidate.category in categories else None,
            "group": None,
            "description": f"{candidate.reason}\n\nIncidents: {keys}",
        })

    def again(self, values: dict[str, Any], message: str) -> ProblemForm:
        return ProblemFromCandidateForm(self.ref, self.numbers, values, message)

    def call(self, cases, actor, values):
        made = cases.create(actor, values["title"], values["service"] or "", values["ci"].strip(),
                            values["category"] or "", "", values["group"] or "", values["description"])
        refused: list[str] = []
        for number in self.numbers:  # each link one transaction writing both timelines
            try:
                cases.link(actor, number, made.number)
            except DomainError as exc:
                refused.append(f"{format_key(number)}: {exc}")
        linked = len(self.numbers) - len(refused)
        said = f"{made.key} opened with {linked} incident{'s' if linked != 1 else ''} linked"
        return said + (f"; not linked: {'; '.join(refused)}" if refused else "")


class LinkIncidentForm(ProblemForm):
    FORM_TITLE = "Link an incident"

    def form_fields(self) -> list[Field]:
        return [Field("incident", "Incident", required=True, placeholder="INC-000123",
                      help="its problem reference will name this problem; both timelines say so")]

    def validate(self, values: dict[str, Any]) -> dict[str, str]:
        errors = super().validate(values)
        if "incident" not in errors:
            try:
                parse_key(values["incident"])
            except ValueError as exc:
                errors["incident"] = str(exc)
        return errors

    def call(self, cases, actor, values):
        linked = cases.link(actor, parse_key(values["incident"]), self.problem.number)
        return f"{linked.key} linked to {self.problem.key}"


class KnownErrorForm(ProblemForm):
    FORM_TITLE = "Known error"

    def form_fields(self) -> list[Field]:
        p = self.problem
        return [
            Field("workaround", "Workaround", kind="area", value=p.workaround, required=True,
                  help="what gets users going again; shown on every matching incident"),
            Field("root_cause", "Root cause", kind="area", value=p.root_cause, help="if known"),
        ]

    def call(self, cases, actor, values):
        done = cases.mark_known_error(actor, self.problem.number, values["workaround"], values["root_cause"],
                                      self.problem.version)
        return f"{done.key} is a known error"


class ResolveProblemForm(ProblemForm):
    FORM_TITLE = "Resolve"

    def form_fields(self) -> list[Field]:
        return [Field("root_cause", "Root cause", kind="area", value=self.problem.root_cause, required=True,
                      help="the cause that was removed")]

    def call(self, cases, actor, values):
        done = cases.resolve(actor, self.problem.number, values["root_cause"], self.problem.version)
        return f"{done.key} resolved"


class CloseProblemForm(ProblemForm):
    FORM_TITLE = "Close"

    def form_fields(self) -> list[Field]:
        return [Field("what", "", kind="info", value=f"Close {self.problem.key}: {self.problem.title}? ctrl+s closes it.")]

    def call(self, cases, actor, values):
        done = cases.close(actor, self.problem.number, self.problem.version)
        return f"{done.key} closed"
