"""Tests of the SQLAlchemy store, each run on a SQLite file and on PostgreSQL."""
