"""Benchmarks of digest_crawler against baselines measured in the same run (python -m benchmarks)."""
