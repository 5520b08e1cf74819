"""What the readers write from the archive: ``records`` (one paper as every
output writes it, and its JSON Schema), ``formats`` (JSONL, CSV, Parquet,
Atom, RSS, JSON Feed), ``report`` (the trend report's HTML) and ``files``
(writing an output whole or not at all)."""
