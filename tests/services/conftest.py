"""The services tests log incidents with the same builders as the store tests."""

from store.conftest import log, report  # noqa: F401 - `log` is a fixture, `report` a builder

__all__ = ["log", "report"]
