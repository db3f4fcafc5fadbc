"""Append-only JSON Lines files that survive being killed mid-write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable


def keys_and_repair(path: Path, key: Callable[[Any], str]) -> set[str]:
    """The key of every complete line of `path`; the first line that does not parse (a write cut by a
    kill) and everything after it are cut off, so appending can carry on cleanly."""
    if not path.exists():
        return set()
    keys, keep = set(), 0
    with open(path, "rb") as handle:
        for line in handle:
            try:
                keys.add(key(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                break
            keep += len(line)
    if keep != path.stat().st_size:
        with open(path, "r+b") as handle:
            handle.truncate(keep)
    return keys
