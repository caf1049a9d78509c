"""The queue's views (which incidents a list shows) and sort orders, with the labels people read.

The store turns a `View` and a `Sort` into SQL; the queue screen and `eim list` name them to the
user. Both sides share these words, so they live here, free of the database and of the UI.
"""

from __future__ import annotations

from enum import StrEnum


class View(StrEnum):
    OPEN = "open"
    MINE = "mine"
    MY_GROUPS = "my_groups"
    UNASSIGNED = "unassigned"
    BREACHING = "breaching"
    MAJOR = "major"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return VIEW_LABELS[self]


VIEW_LABELS = {
    View.OPEN: "All open",
    View.MINE: "Mine",
    View.MY_GROUPS: "My groups",
    View.UNASSIGNED: "Unassigned",
    View.BREACHING: "Breaching soon",
    View.MAJOR: "Major",
    View.RESOLVED: "Recently resolved",
}


class Sort(StrEnum):
    SLA = "sla"
    NEWEST = "newest"
    OLDEST = "oldest"
    UPDATED = "updated"

    @property
    def label(self) -> str:
        return SORT_LABELS[self]


SORT_LABELS = {
    Sort.SLA: "SLA within severity",
    Sort.NEWEST: "Newest first",
    Sort.OLDEST: "Oldest first",
    Sort.UPDATED: "Recently updated",
}
