"""Tests of the `eim` command line: in process through `main(argv)`, and a few as a real process."""
