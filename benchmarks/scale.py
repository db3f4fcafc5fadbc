"""Build and query at registry scale, beside the naive way, and project to 600,000 trials.

    python benchmarks/scale.py [--sizes 1000 10000 100000] [--naive-sample 500] [--queries 300]

On the first N records of ../shared/data/ctgov-text-101k.jsonl.gz (real trials, title and description
only), for each N: build time and peak resident memory of `similar build` (a subprocess), index size on
disk, resident memory added by opening it, single `related()` latency (p50, p99), batched throughput
and `related --all` throughput. In the same run, on the same sample, the naive way: sentence-transformers
`encode` of the whole text with default settings (float32, 256 tokens) against the engine's embedding
path, and scikit-learn brute-force `NearestNeighbors` against FAISS on the same vectors. Writes
benchmarks/results/scale.md.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from similar import Index, read_records, write_all_related
from similar.embed import DEFAULT_MODEL, SentenceTransformerEmbedder, load_embedder
from similar.text import FIELDS, field_texts, full_text
from similar.vectors import combine, embed_fields

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = 600_000


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))


def subset(source: Path, count: int, target: Path) -> None:
    with gzip.open(source, "rt", encoding="utf-8") as lines, gzip.open(target, "wt", encoding="utf-8") as out:
        out.writelines(itertools.islice(lines, count))


def build(records: Path, index: Path) -> tuple[float, int, dict]:
    """Wall seconds, peak RSS and the JSON summary of `similar build` run as its own process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "similar", "build", str(records), "--index", str(index), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(f"build of {records} failed with status {status}")
    return time.perf_counter() - started, usage.ru_maxrss * 1024, json.loads(output)


def embedding_throughput(trials: list, repeats: int) -> dict[str, float]:
    """Trials per second, median of interleaved runs: the engine's path against the naive one."""
    ours = load_embedder(DEFAULT_MODEL)
    naive = SentenceTransformerEmbedder(DEFAULT_MODEL, bfloat16=False, max_tokens=None)  # defaults: fp32, 256
    texts = [field_texts(t) for t in trials]
    whole = [full_text(t) for t in trials]
    ours.encode(whole[:8]), naive.encode(whole[:8])  # warm up
    runs: dict[str, list[float]] = {"similar": [], "naive": []}
    for _ in range(repeats):
        started = time.perf_counter()
        embed_fields(texts, FIELDS, ours)
        runs["similar"].append(len(trials) / (time.perf_counter() - started))
        started = time.perf_counter()
        naive.model.encode(whole)  # sentence-transformers defaults, as a user would call it
        runs["naive"].append(len(trials) / (time.perf_counter() - started))
    return {name: statistics.median(values) for name, values in runs.items()}


def query_figures(index_path: Path, queries: int, out_dir: Path) -> dict[str, float]:
    before = rss_bytes()
    index = Index.open(index_path)
    ids = index.store.nct_ids()
    rng = np.random.default_rng(0)
    picks = [ids[i] for i in rng.choice(len(ids), min(queries, len(ids)), replace=False)]
    index.related(picks[0], 10)
    latencies = []
    for nct in picks:
        started = time.perf_counter()
        index.related(nct, 10)
        latencies.append(time.perf_counter() - started)
    opened = rss_bytes() - before
    started = time.perf_counter()
    batch = picks[:1000]
    index.related_batch(batch, 10)
    batch_rate = len(batch) / (time.perf_counter() - started)

    vectors = combine(np.asarray(index.vectors), index.present, [index.weights[f] for f in index.fields])
    from sklearn.neighbors import NearestNeighbors

    started = time.perf_counter()
    knn = NearestNeighbors(n_neighbors=11, metric="cosine", algorithm="brute").fit(vectors)
    fit = time.perf_counter() - started
    sample = vectors[rng.choice(len(vectors), min(50, len(vectors)), replace=False)]
    naive_latency = []
    for row in sample:
        started = time.perf_counter()
        knn.kneighbors(row[None])
        naive_latency.append(time.perf_counter() - started)
    figures = {
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * float(np.percentile(latencies, 99)),
        "batch_per_s": batch_rate,
        "open_rss_mb": opened / 1e6,
        "sklearn_p50_ms": 1000 * statistics.median(naive_latency),
        "sklearn_fit_s": fit,
        "index_type": index.manifest.index_type,
        "recall_at_10": index.manifest.ann.get("recall_at_10", 1.0),
    }
    figures.update(ann_figures(vectors, index.ids, rng, queries))
    if len(ids) <= 20_000:
        summary = write_all_related(index, out_dir / "related.jsonl", k=10)
        figures["all_per_s"] = summary.written / summary.seconds
    index.close()
    return figures


def ann_figures(vectors: np.ndarray, ids: np.ndarray, rng: np.random.Generator, queries: int) -> dict:
    """Raw FAISS search latency, exact against HNSW (built and tuned here on the same real vectors)."""
    import faiss

    from similar.ann import AnnIndex

    sample = vectors[rng.choice(len(vectors), min(queries, len(vectors)), replace=False)]
    figures = {}
    for kind in ("flat", "hnsw"):
        started = time.perf_counter()
        ann = AnnIndex.create(vectors.shape[1], kind)
        ann.index(vectors, ids)
        info = ann.tune(vectors)
        build = time.perf_counter() - started
        latencies = []
        for row in sample:
            started = time.perf_counter()
            ann.search(row[None], 11)
            latencies.append(time.perf_counter() - started)
        figures[f"{kind}_p50_ms"] = 1000 * statistics.median(latencies)
        figures[f"{kind}_mb"] = len(faiss.serialize_index(ann._index)) / 1e6
        if kind == "hnsw":
            figures.update(hnsw_build_s=build, hnsw_recall=info["recall_at_10"], hnsw_ef=info["ef_search"])
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "data" / "ctgov-text-101k.jsonl.gz")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--naive-sample", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="similar-scale-"))
    rows = []
    try:
        sample = list(itertools.islice(read_records([args.source]), args.naive_sample))
        speed = embedding_throughput(sample, args.repeats)
        print(
            f"embedding, {len(sample)} trials: similar {speed['similar']:.1f}/s, naive {speed['naive']:.1f}/s",
            file=sys.stderr,
        )
        for size in args.sizes:
            records = work / f"first-{size}.jsonl.gz"
            subset(args.source, size, records)
            seconds, peak, summary = build(records, work / f"index-{size}")
            disk = summary["bytes"]
            figures = query_figures(work / f"index-{size}", args.queries, work)
            rows.append(
                {
                    "trials": summary["trials"],
                    "build_s": seconds,
                    "peak_rss_mb": peak / 1e6,
                    "disk_mb": disk / 1e6,
                    **figures,
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr)
            shutil.rmtree(work / f"index-{size}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = render(rows, speed, len(sample))
    print(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scale.md").write_text(report, encoding="utf-8")
    (args.out / "scale.json").write_text(json.dumps({"embedding": speed, "sizes": rows}, indent=2) + "\n")
    return 0


def render(rows: list[dict], speed: dict[str, float], sample: int) -> str:
    lines = [
        f"# Scale ({date.today().isoformat()}, 2 CPU cores, all-MiniLM-L6-v2)",
        "",
        "Real trials from ctgov-text-101k.jsonl.gz (title, summary, description; no conditions or interventions).",
        "",
        f"## Embedding, same {sample} trials, interleaved, median of runs",
        "",
        "| path | trials/s | × naive |",
        "|---|---|---|",
        f"| naive: `encode` of the whole text, defaults (float32, 256 tokens) | {speed['naive']:.1f} | 1.0 |",
        f"| similar: fields in one length-sorted pass, bfloat16, 128 tokens | {speed['similar']:.1f} | "
        f"{speed['similar'] / speed['naive']:.1f} |",
        "",
        "## Build and query",
        "",
        "| trials | build s | trials/s | peak RSS MB | disk MB | KB/trial disk | open RSS MB | index | recall@10 | "
        "related p50 ms | p99 ms | batch /s | --all /s | sklearn brute p50 ms |",
        "|" + "---|" * 14,
    ]
    for r in rows:
        lines.append(
            f"| {r['trials']:,} | {r['build_s']:.0f} | {r['trials'] / r['build_s']:.1f} | {r['peak_rss_mb']:.0f} | "
            f"{r['disk_mb']:.0f} | {1000 * r['disk_mb'] / r['trials']:.1f} | {r['open_rss_mb']:.0f} | "
            f"{r['index_type']} | {r['recall_at_10']:.3f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['batch_per_s']:.0f} | {r.get('all_per_s', float('nan')):.0f} | {r['sklearn_p50_ms']:.1f} |"
        )
    lines += [
        "",
        "## FAISS alone, on the same real vectors: exact against HNSW (M=32, efSearch tuned to recall@10 "
        "≥ 0.99 against exact on 1,000 sampled trials)",
        "",
        "| trials | flat p50 ms | flat MB | HNSW p50 ms | HNSW MB | HNSW build s | efSearch | recall@10 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['trials']:,} | {r['flat_p50_ms']:.2f} | {r['flat_mb']:.0f} | {r['hnsw_p50_ms']:.2f} | "
            f"{r['hnsw_mb']:.0f} | {r['hnsw_build_s']:.0f} | {r['hnsw_ef']} | {r['hnsw_recall']:.3f} |"
        )
    if len(rows) >= 2:
        a, b = rows[-2], rows[-1]
        grow = lambda key: (b[key] - a[key]) / (b["trials"] - a["trials"])  # noqa: E731
        project = lambda key: b[key] + grow(key) * (REGISTRY - b["trials"])  # noqa: E731
        lines += [
            "",
            f"## Projection to {REGISTRY:,} trials",
            "",
            f"Linear in the growth between the two largest runs ({a['trials']:,} → {b['trials']:,}).",
            "",
            f"- build: {project('build_s') / 3600:.1f} h on 2 cores (embedding dominates)",
            f"- disk: {project('disk_mb') / 1000:.1f} GB; peak build RSS: {project('peak_rss_mb') / 1000:.1f} GB",
            f"- exact related() p50: {project('p50_ms'):.0f} ms; above 200,000 trials the build switches to "
            "HNSW, whose latency grows with log N",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
