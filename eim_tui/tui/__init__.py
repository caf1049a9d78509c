"""The terminal UI: the only package that imports Textual. It never opens a database session."""
