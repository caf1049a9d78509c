"""Wiring the SLA scheduler and the alert channels into a running `EimApp`.

`start(app)` runs on mount: the scheduler's jobs post `SlaAlerts` / `SchedulerTrouble` messages
to the app (thread-safe), and the app's handlers hand them to its `AlertCenter`. `stop(app)`
runs on unmount. Kept here so `app.py` only says when.
"""

from __future__ import annotations

from eim_tui.tui.alerts import AlertCenter, SchedulerTrouble, SlaAlerts
from eim_tui.notify.scheduler import SlaScheduler

FLUSH_SECONDS = 5.0  # how often alerts held back by the rate limit are let out


def start(app) -> None:
    settings = app.config.alerts
    app.alert_center = AlertCenter(app, settings)
    app.sla_scheduler = SlaScheduler(
        app.services,
        app.user,
        on_alerts=lambda alerts: app.post_message(SlaAlerts(alerts)),
        on_error=lambda error: app.post_message(SchedulerTrouble(error)),
        severities=settings.severities,
        poll_interval=app.poll_interval,
    )
    app.sla_scheduler.start()
    app.set_interval(FLUSH_SECONDS, app.alert_center.flush)


def stop(app) -> None:
    scheduler = getattr(app, "sla_scheduler", None)
    if scheduler is not None:
        scheduler.shutdown()
