"""Update time for changed records against a full rebuild, on the bundled sample with the real model.

    python benchmarks/update.py [--changed 100] [--repeats 3]

Builds the sample index cold (every text embedded), then, in the same run, applies an update where
`--changed` real records carry a new last-update date and a revised summary, a no-op update, a
rebuild that reuses unchanged vectors, and a remove; prints medians and writes results/update.md.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

from similar import build_index, bundled_sample, remove_from_index, update_index

ROOT = Path(__file__).resolve().parents[1]


def changed_records(sample: Path, count: int, out: Path) -> list[str]:
    """A zip of `count` real sample records with a later update date and an extra sentence in the summary."""
    ids = []
    with zipfile.ZipFile(sample) as source, zipfile.ZipFile(out, "w") as target:
        for name in sorted(n for n in source.namelist() if n.endswith(".xml"))[:count]:
            text = source.read(name).decode("utf-8")
            text = re.sub(r"<last_update_posted([^>]*)>[^<]*<", r"<last_update_posted\1>November 20, 2026<", text)
            text = text.replace(
                "</textblock>\n  </brief_summary>",
                " Revised in 2026 to add a follow-up visit.</textblock>\n  </brief_summary>",
                1,
            )
            target.writestr(name, text)
            ids.append(name.split("/")[-1].removesuffix(".xml"))
    return ids


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changed", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    sample = bundled_sample()
    work = Path(tempfile.mkdtemp(prefix="similar-update-"))
    try:
        changes = work / "changed.zip"
        ids = changed_records(sample, args.changed, changes)
        cold, summary = timed(lambda: build_index([sample], work / "index"))
        print(f"cold build: {summary.count} trials, {cold:.1f} s", file=sys.stderr)
        rows = {
            "update, changed records": [],
            "update, nothing changed": [],
            "rebuild reusing vectors": [],
            "remove, same records": [],
        }
        for _ in range(args.repeats):
            base = work / "base"
            shutil.copytree(work / "index", base)
            seconds, result = timed(lambda b=base: update_index([changes], b))
            assert result.replaced == args.changed, result
            rows["update, changed records"].append(seconds)
            rows["update, nothing changed"].append(timed(lambda b=base: update_index([changes], b))[0])
            rows["remove, same records"].append(timed(lambda b=base: remove_from_index(ids, b))[0])
            shutil.rmtree(base)
            shutil.copytree(work / "index", base)
            rows["rebuild reusing vectors"].append(timed(lambda b=base: build_index([sample, changes], b))[0])
            shutil.rmtree(base)
        lines = [
            f"# Update against rebuild ({date.today().isoformat()})",
            "",
            f"Bundled sample ({summary.count} real trials), all-MiniLM-L6-v2 bf16, {args.changed} records "
            f"changed (new last-update date, one more sentence in the summary); medians of {args.repeats}.",
            "",
            "| operation | median s | × faster than the cold build |",
            "|---|---|---|",
            f"| full build, cold (every text embedded) | {cold:.2f} | 1.0 |",
        ]
        for name, values in rows.items():
            median = statistics.median(values)
            lines.append(f"| {name} | {median:.2f} | {cold / median:.1f} |")
        text = "\n".join(lines) + "\n"
        print(text)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "update.md").write_text(text, encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
