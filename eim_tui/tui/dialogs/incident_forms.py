"""The detail screen's small forms: assign, impact/urgency, categorize, hold, link, and a reason
(reopen / cancel). Each knows the ONE use case it calls (`call`), so the screen can run any of them
the same way: in a worker, with the version it showed, keeping the typed text on refusal.
"""

from __future__ import annotations

from typing import Any

from textual.suggester import SuggestFromList
from textual.widgets import Input

from eim_tui.domain.model import SEVERITY_NAMES, HoldReason, Incident, format_key, parse_key
from eim_tui.reference.data import ReferenceData
from eim_tui.tui.dialogs.form import Field, FormScreen

LEVELS = [("1 high", 1), ("2 medium", 2), ("3 low", 3)]


class IncidentForm(FormScreen):
    """A form about one incident. Subclasses set FORM_TITLE/DONE and write `form_fields` and `call`."""

    FORM_TITLE = "Change"
    DONE = "changed"  # for the toast: "INC-000001 assigned"

    def __init__(self, incident: Incident, ref: ReferenceData, user: str,
                 prefill: dict[str, Any] | None = None, message: str = "") -> None:
        self.incident = incident
        self.ref = ref
        self.user = user
        super().__init__(prefill, message)

    def form_title(self) -> str:
        return f"{self.FORM_TITLE} · {self.incident.key}"

    def call(self, svc, actor: str, version: int, values: dict[str, Any]) -> Incident:
        raise NotImplementedError


class AssignForm(IncidentForm):
    FORM_TITLE = "Assign"
    DONE = "assigned"

    def form_fields(self) -> list[Field]:
        group = self.incident.assignment_group
        return [
            Field("group", "Assignment group", kind="select", value=group or None,
                  options=[(g.name, g.name) for g in self.ref.groups], placeholder="(no group)"),
            Field("assignee", "Assignee", value=self.incident.assignee, placeholder="a member's name, or empty",
                  suggestions=self._members(group) or [u.name for u in self.ref.users],
                  help=self._members_help(group)),
        ]

    def _members(self, group: str | None) -> list[str]:
        found = self.ref.group(group) if group else None
        return list(found.members) if found else []

    def _members_help(self, group: str | None) -> str:
        members = self._members(group)
        return f"members of {group}: {', '.join(members)}" if members else "type a name"

    def field_changed(self, name: str, value: Any) -> None:
        if name == "group":
            self.set_help("assignee", self._members_help(value))
            members = self._members(value) or [u.name for u in self.ref.users]
            self.query_one("#field-assignee", Input).suggester = SuggestFromList(members, case_sensitive=False)

    def call(self, svc, actor, version, values):
        return svc.assign(self.incident.number, actor, group=values["group"] or None,
                          assignee=values["assignee"].strip(), expected_version=version)


class PriorityForm(IncidentForm):
    FORM_TITLE = "Impact and urgency"
    DONE = "reprioritized"

    def form_fields(self) -> list[Field]:
        i = self.incident
        overridden = i.priority if i.priority_override_reason else None
        return [
            Field("impact", "Impact", kind="select", value=i.impact, options=LEVELS, required=True),
            Field("urgency", "Urgency", kind="select", value=i.urgency, options=LEVELS, required=True),
            Field("computed", "Priority from the matrix", kind="info", value=self._computed(i.impact, i.urgency)),
            Field("override", "Override severity", kind="select", value=overridden, placeholder="no override",
                  options=[(f"Sev{s} {SEVERITY_NAMES[s]}", s) for s in range(1, 6)]),
            Field("reason", "Reason for the override", value=i.priority_override_reason,
                  help="needed when the override differs from the matrix"),
        ]

    def _computed(self, impact: Any, urgency: Any) -> str:
        if impact is None or urgency is None:
            return "choose impact and urgency"
        sev = self.ref.matrix.priority(impact, urgency)
        return f"Sev{sev} {SEVERITY_NAMES[sev]} (impact {impact} × urgency {urgency})"

    def field_changed(self, name: str, value: Any) -> None:
        if name in ("impact", "urgency"):
            self.set_info("computed", self._computed(self.value_of("impact"), self.value_of("urgency")))

    def validate(self, values: dict[str, Any]) -> dict[str, str]:
        errors = super().validate(values)
        if errors:
            return errors
        computed = self.ref.matrix.priority(values["impact"], values["urgency"])
        if values["override"] not in (None, computed) and not values["reason"].strip():
            errors["reason"] = f"overriding Sev{computed} with Sev{values['override']} needs a reason"
        if values["override"] not in (None, computed) and not self.app.permissions.may_override_priority:
            errors["override"] = "overriding the matrix needs the shift lead or admin role; leave it on no override"
        return errors

    def call(self, svc, actor, version, values):
        return svc.prioritize(self.incident.number, actor, values["impact"], values["urgency"],
                              values["override"], values["reason"], expected_version=version)


class CategoryForm(IncidentForm):
    FORM_TITLE = "Categorize"
    DONE = "categorized"

    def form_fields(self) -> list[Field]:
        i = self.incident
        return [
            Field("category", "Category", kind="select", value=i.category or None, required=True,
                  options=[(c.name.replace("_", " "), c.name) for c in self.ref.categories]),
            Field("subcategory", "Subcategory", kind="select", value=i.subcategory or None,
                  options=self._subs(i.category), placeholder="(none)"),
        ]

    def _subs(self, category: str | None) -> list[tuple[str, str]]:
        found = self.ref.category(category) if category else None
        return [(s, s) for s in found.subcategories] if found else []

    def field_changed(self, name: str, value: Any) -> None:
        if name == "category":
            keep = self.value_of("subcategory")
            self.set_options("subcategory", self._subs(value), keep)
            found = self.ref.category(value) if value else None
            self.set_help("category", "confidential: only the security group will see it"
                          if found and found.confidential else "")

    def call(self, svc, actor, version, values):
        return svc.categorize(self.incident.number, actor, values["category"], values["subcategory"] or "",
                              expected_version=version)


class HoldForm(IncidentForm):
    FORM_TITLE = "Put on hold"
    DONE = "put on hold"

    def form_fields(self) -> list[Field]:
        return [
            Field("reason", "Waiting for", kind="select", required=True,
                  options=[(r.label, r.value) for r in HoldReason],
                  help="awaiting user, vendor or change pauses the SLA clocks; other does not"),
            Field("note", "Note", kind="area", help="what you are waiting for (needed for 'other')"),
        ]

    def validate(self, values: dict[str, Any]) -> dict[str, str]:
        errors = super().validate(values)
        if values.get("reason") == HoldReason.OTHER.value and not values["note"].strip():
            errors["note"] = "say why: a hold for another reason needs a note"
        return errors

    def call(self, svc, actor, version, values):
        return svc.put_on_hold(self.incident.number, actor, values["reason"], values["note"], expected_version=version)


class LinkForm(IncidentForm):
    FORM_TITLE = "Links"
    DONE = "linked"

    def form_fields(self) -> list[Field]:
        i = self.incident
        return [
            Field("parent", "Duplicate of (parent incident)", placeholder="INC-000123",
                  value=format_key(i.parent_number) if i.parent_number else "", help="empty keeps the current parent"),
            Field("problem", "Problem reference", value=i.problem_ref, placeholder="PRB-0042"),
            Field("change", "Change reference", value=i.change_ref, placeholder="CHG-1234"),
        ]

    def validate(self, values: dict[str, Any]) -> dict[str, str]:
        errors = super().validate(values)
        text = values["parent"].strip()
        if text:
            try:
                if parse_key(text) == self.incident.number:
                    errors["parent"] = "an incident cannot be a duplicate of itself"
            except ValueError as exc:
                errors["parent"] = str(exc)
        return errors

    def call(self, svc, actor, version, values):
        text = values["parent"].strip()
        return svc.link(self.incident.number, actor, parent=parse_key(text) if text else None,
                        problem_ref=values["problem"], change_ref=values["change"], expected_version=version)


class ReasonForm(IncidentForm):
    """Reopen or cancel: one reason, required."""

    STEP = "reopen"

    def form_fields(self) -> list[Field]:
        hint = ("why it is not fixed: the resolution clock restarts" if self.STEP == "reopen"
                else "why no work is needed (e.g. duplicate of INC-000123, raised in error)")
        return [Field("reason", "Reason", kind="area", required=True, help=hint)]

    def call(self, svc, actor, version, values):
        step = svc.reopen if self.STEP == "reopen" else svc.cancel
        return step(self.incident.number, actor, values["reason"], expected_version=version)


class ReopenForm(ReasonForm):
    FORM_TITLE = "Reopen"
    DONE = "reopened"
    STEP = "reopen"


class CancelForm(ReasonForm):
    FORM_TITLE = "Cancel the incident"
    DONE = "cancelled"
    STEP = "cancel"


__all__ = ["AssignForm", "CancelForm", "CategoryForm", "HoldForm", "IncidentForm", "LinkForm", "PriorityForm",
           "ReopenForm"]
