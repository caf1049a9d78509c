"""Headless ways of telling a person: the SLA scheduler, desktop notifications, terminal escapes.

No Textual and no database sessions here: the scheduler works through the services.
"""
