"""Benchmarks for the retrieval side: index build time and query latency against bare baselines."""
