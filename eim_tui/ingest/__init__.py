"""Automated identification: monitoring alerts become incidents.

`adapters` turns webhook bodies (Alertmanager, PagerDuty Events v2, generic JSON) into alerts,
`routing` maps them to incident fields, `plan` into units of work, `processor` checks bodies and
has the use cases (`services.alert_intake`) store and apply them, `server` is the aiohttp receiver
behind `eim ingest` (`cli`). `reports` and `email_report` serve `eim new --from-email` and
`eim new --json`.
"""
