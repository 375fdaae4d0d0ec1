"""Benchmarks: ``python -m adm.bench <name> [options]``; each name is a module here."""
