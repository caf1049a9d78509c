"""Stable output shapes: JSON (`json_shapes`), Markdown and CSV exports (`export`), plain text (`text`)."""
