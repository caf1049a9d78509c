"""Tests of the `eim` command line, run as a real process."""
