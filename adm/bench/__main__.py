"""Dispatch ``python -m adm.bench <name> ...`` to ``adm.bench.<name>.main(argv)``."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import adm.bench


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(adm.bench.__path__) if m.name[0] != "_")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    names = available()
    if argv and not argv[0].startswith("-"):
        argv[0] = argv[0].replace("-", "_")  # `sampler-quality` names adm.bench.sampler_quality
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in names:
        print(f"usage: python -m adm.bench {{{','.join(names)}}} [options]", file=sys.stderr)
        return 0 if argv and argv[0] in {"-h", "--help"} else 2
    module = importlib.import_module(f"adm.bench.{argv[0]}")
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
