"""The related list of every trial in an index, written as JSON Lines, batched and resumable."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from .engine import Index
from .jsonl import keys_and_repair


@dataclass
class ExportSummary:
    path: Path
    written: int
    already_done: int
    seconds: float


def write_all_related(
    index: Index, out: str | Path, k: int = 10, batch_size: int = 512, progress: bool = False
) -> ExportSummary:
    """Append `{"query": NCT, "results": [...]}` for every indexed trial not yet in `out`.

    Lines are flushed batch by batch; after an interruption the same call carries on where the
    file ends (a half-written last line is cut off first).
    """
    started = time.perf_counter()
    out = Path(out)
    done = keys_and_repair(out, lambda line: line["query"])
    todo = [nct for nct in index.store.nct_ids() if nct not in done]
    written = 0
    with (
        open(out, "a", encoding="utf-8") as sink,
        tqdm(total=len(index), initial=len(done), desc="related lists", unit=" trials", disable=not progress) as bar,
    ):
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            for nct, matches in zip(batch, index.related_batch(batch, k), strict=True):
                sink.write(json.dumps({"query": nct, "results": [m.to_dict() for m in matches]}) + "\n")
            sink.flush()
            os.fsync(sink.fileno())
            written += len(batch)
            bar.update(len(batch))
    return ExportSummary(out, written, len(done), time.perf_counter() - started)
