"""Loading the shipped reference data (data/*.toml, *.csv) into the store's tables."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from eim_tui.reference.data import ReferenceData
from eim_tui.store.tables import (
    CategoryRow,
    ConfigurationItemRow,
    GroupMemberRow,
    GroupRow,
    ServiceRow,
    SlaPolicyRow,
    SubcategoryRow,
    UserRow,
)


def sync_reference(session: Session, ref: ReferenceData) -> None:
    """Make the reference tables say what `ref` says (users added by hand are kept)."""
    for table in (SubcategoryRow, CategoryRow, ConfigurationItemRow, ServiceRow, SlaPolicyRow):
        session.execute(delete(table))
    for category in ref.categories:
        session.add(CategoryRow(name=category.name, confidential=category.confidential))
    session.flush()
    for category in ref.categories:
        for sub in category.subcategories:
            session.add(SubcategoryRow(category=category.name, name=sub))
    for service in ref.services:
        session.add(ServiceRow(name=service.name, description=service.description, owner_group=service.owner_group))
    session.flush()
    for service in ref.services:
        for ci in service.configuration_items:
            session.merge(ConfigurationItemRow(name=ci, service=service.name))
    for policy in ref.policies.values():
        session.add(
            SlaPolicyRow(
                severity=policy.severity,
                name=policy.name,
                response_seconds=int(policy.response.total_seconds()),
                resolution_seconds=int(policy.resolution.total_seconds()),
                warning_fraction=policy.warning_fraction,
            )
        )
    for group in ref.groups:
        session.merge(GroupRow(name=group.name, description=group.description, shift_lead=group.shift_lead))
    for user in ref.users:
        if session.get(UserRow, user.name) is None:
            session.add(UserRow(name=user.name, full_name=user.full_name, email=user.email, role=user.role.value))
    session.flush()
    for group in ref.groups:
        members = set(group.members) | {u.name for u in ref.users if group.name in u.groups}
        for member in sorted(members):
            if session.get(UserRow, member) is None:
                session.add(UserRow(name=member))
                session.flush()
            session.merge(GroupMemberRow(group_name=group.name, user_name=member))
