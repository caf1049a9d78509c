"""Reusable Textual widgets: they draw what they are given and post messages up."""

from eim_tui.tui.widgets.queue_table import QueueTable

__all__ = ["QueueTable"]
