"""Model metadata from public model hubs into SQLite and bilingual markdown model cards."""

__version__ = "0.1.0"
