"""Resolving and closing: the resolution form, and the closure form — which for a major incident
also carries the post-incident review (summary, timeline highlights, what went well, what did not,
actions with owners), since a major incident cannot close without one.
"""

from __future__ import annotations

from typing import Any

from eim_tui.domain.model import Incident
from eim_tui.tui.dialogs.incident_forms import IncidentForm
from eim_tui.tui.dialogs.form import Field

RATINGS = [("1 very poor", 1), ("2 poor", 2), ("3 fair", 3), ("4 good", 4), ("5 excellent", 5)]


class ResolveForm(IncidentForm):
    FORM_TITLE = "Resolve"
    DONE = "resolved"

    def form_fields(self) -> list[Field]:
        i = self.incident
        return [
            Field("code", "Resolution code", kind="select", required=True, value=i.resolution_code or None,
                  options=[(label, code) for code, label in self.ref.resolution_codes.items()]),
            Field("notes", "What was done", kind="area", required=True, value=i.resolution_notes),
            Field("tested", "How it was tested", kind="area", value=i.resolution_tested),
            Field("communication", "What affected users were told", kind="area", value=i.resolution_communication,
                  help="resolving stops the resolution clock"),
        ]

    def call(self, svc, actor, version, values):
        return svc.resolve(self.incident.number, actor, values["code"], values["notes"], values["tested"],
                           values["communication"], expected_version=version)


def parse_actions(text: str) -> tuple[list[dict[str, str]], str]:
    """Review actions typed one per line as `what to do @owner`; returns (actions, error)."""
    actions: list[dict[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip().lstrip("-*• ").strip()
        if not line:
            continue
        what, at, owner = line.rpartition("@")
        if not at or not what.strip() or not owner.strip():
            return actions, f"line {number}: write the action then @owner, e.g. 'add disk alert @chen'"
        actions.append({"action": what.strip(), "owner": owner.strip()})
    return actions, ""


def actions_text(actions: Any) -> str:
    if not isinstance(actions, list):
        return ""
    return "\n".join(f"{a.get('action', '')} @{a.get('owner', '')}" for a in actions if isinstance(a, dict))


class CloseForm(IncidentForm):
    FORM_TITLE = "Close"
    DONE = "closed"

    def form_fields(self) -> list[Field]:
        i = self.incident
        fields = [
            Field("verified", "Verification done: the fix holds", kind="check", value=False),
            Field("verified_by", "Verified by", value=i.closure_verified_by or self.user, required=True,
                  suggestions=[u.name for u in self.ref.users]),
            Field("rating", "Requester's rating", kind="select", options=RATINGS, value=i.feedback_rating,
                  placeholder="(no rating)"),
            Field("comment", "Requester's comment", value=i.feedback_comment),
            Field("lessons", "Lessons learned", kind="area", value=i.lessons_learned),
        ]
        if i.major:
            r = i.post_incident_review or {}
            fields += [
                Field("review_summary", "Review: summary", kind="area", required=True, value=r.get("summary", ""),
                      help="a major incident needs a post-incident review before it can close"),
                Field("review_highlights", "Review: timeline highlights", kind="area", value=r.get("highlights", "")),
                Field("review_went_well", "Review: what went well", kind="area", required=True,
                      value=r.get("went_well", "")),
                Field("review_went_badly", "Review: what did not go well", kind="area", required=True,
                      value=r.get("went_badly", "")),
                Field("review_actions", "Review: actions, one per line as 'action @owner'", kind="area",
                      required=True, value=actions_text(r.get("actions"))),
            ]
        return fields

    def validate(self, values: dict[str, Any]) -> dict[str, str]:
        errors = super().validate(values)
        if not values["verified"]:
            errors["verified"] = "check that the fix was verified before closing"
        if self.incident.major and "review_actions" not in errors:
            actions, problem = parse_actions(values["review_actions"])
            if problem or not actions:
                errors["review_actions"] = problem or "at least one action with an owner"
        return errors

    def review(self, values: dict[str, Any]) -> dict[str, Any] | None:
        if not self.incident.major:
            return None
        actions, _ = parse_actions(values["review_actions"])
        return {
            "summary": values["review_summary"].strip(),
            "highlights": values["review_highlights"].strip(),
            "went_well": values["review_went_well"].strip(),
            "went_badly": values["review_went_badly"].strip(),
            "actions": actions,
        }

    def call(self, svc, actor, version, values) -> Incident:
        return svc.close(self.incident.number, actor, verified_by=values["verified_by"].strip(),
                         rating=values["rating"], comment=values["comment"], lessons=values["lessons"],
                         review=self.review(values), expected_version=version)
