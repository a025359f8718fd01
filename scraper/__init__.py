"""Model metadata from Civitai, Hugging Face and ModelScope into SQLite and markdown cards."""

__version__ = "0.1.0"
