"""What the command line prints: a readable table on a terminal, JSON with --json."""

from __future__ import annotations

import argparse
import json
import shutil
from typing import Sequence

from .. import Match


def report(args: argparse.Namespace, values: dict) -> None:
    """A one-line summary: JSON with --json, else `key value, key value`."""
    print(json.dumps(values) if args.json else ", ".join(f"{k} {v}" for k, v in values.items()))


def format_table(matches: list[Match], fields: Sequence[str]) -> str:
    """A fixed-width table: rank, NCT id, score, the per-field scores, then the title cut to the terminal."""
    if not matches:
        return "  (no related trials)"
    short = [name[:5] for name in fields]
    header = f"{'#':>3}  {'NCT id':<11}  {'score':>5}  " + "  ".join(f"{s:>5}" for s in [*short, "text"]) + "  title"
    columns = shutil.get_terminal_size((120, 20)).columns
    lines = [header]
    for m in matches:
        values = [m.field_scores.get(f) for f in fields] + [m.text_score]
        scores = "  ".join("    -" if v is None else f"{v:5.2f}" for v in values)
        line = f"{m.rank:>3}  {m.nct_id:<11}  {m.score:5.3f}  {scores}  {m.title}"
        lines.append(line if len(line) <= columns else line[: columns - 1] + "…")
        if m.why is not None:
            lines.append(f"{'':>5}why: {m.why.summary()}")
    return "\n".join(lines)
