"""digest_crawler: a local, queryable archive of the Hugging Face Daily Papers digest."""

__version__ = "0.1.0"
