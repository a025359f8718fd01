"""Markdown model cards: the text, its escaping, and the files on disk."""
