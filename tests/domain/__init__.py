"""Tests of the pure incident rules in `eim_tui.domain`."""
