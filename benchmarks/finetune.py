"""Self-supervised fine-tuning of the embedding model on the corpus, measured against the stock model.

    python benchmarks/quality.py        # builds index/bench with the stock model first
    python benchmarks/finetune.py [--steps 150] [--batch 32]

Training pairs are two field texts of the same trial, as the index embeds them (conditions and
description, interventions and description, conditions and interventions), from ctgov-xml-6786.zip with
the benchmark records left out; no label is used. Loss: in-batch multiple-negatives ranking (InfoNCE,
scale 20) in both directions, AdamW at 2e-5, on the CPU. The tuned model is saved to
index/minilm-finetuned, an index of the same records is built with it (same settings as the default),
and both indexes are scored on the same rows. Writes benchmarks/results/finetune.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import zipfile
from datetime import date
from pathlib import Path

from similar import Index, build_index, read_records
from similar.embed import DEFAULT_MAX_TOKENS, load_embedder
from similar.evaluate import evaluate_index
from similar.records import Trial
from similar.text import field_texts

ROOT = Path(__file__).resolve().parents[1]
PAIRS = (("conditions", "description"), ("interventions", "description"), ("conditions", "interventions"))


def training_pairs(corpus: Path, leave_out: set[str], seed: int = 0) -> list[tuple[str, str]]:
    """(field text, other field text) of the same trial, shuffled, for every trial not left out."""
    pairs = []
    for trial in read_records([corpus]):
        if not isinstance(trial, Trial) or trial.nct_id in leave_out:
            continue
        texts = field_texts(trial)
        pairs += [(texts[a], texts[b]) for a, b in PAIRS if texts[a] and texts[b]]
    random.Random(seed).shuffle(pairs)
    return pairs


def fine_tune(pairs: list[tuple[str, str]], out: Path, steps: int, batch: int) -> float:
    """Train the stock MiniLM on `pairs` for `steps` batches and save it to `out`; returns the seconds taken."""
    import torch

    torch.manual_seed(0)
    model = load_embedder("all-MiniLM-L6-v2", bfloat16=False, max_tokens=DEFAULT_MAX_TOKENS).model
    load_embedder.cache_clear()
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
    started = time.perf_counter()
    for step in range(steps):
        chunk = pairs[(step * batch) % len(pairs) :][:batch]
        left, right = ([p[i] for p in chunk] for i in (0, 1))
        logits = embed(model, left) @ embed(model, right).T * 20
        target = torch.arange(len(chunk))
        cross_entropy = torch.nn.functional.cross_entropy
        loss = (cross_entropy(logits, target) + cross_entropy(logits.T, target)) / 2
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step}/{steps} loss {loss.item():.3f}", file=sys.stderr, flush=True)
    model.eval()
    model.save(str(out))
    return time.perf_counter() - started


def embed(model, texts: list[str]):
    """Unit vectors of `texts` with gradients (sentence-transformers' encode() runs without them)."""
    import torch

    return torch.nn.functional.normalize(model(model.preprocess(texts))["sentence_embedding"], dim=1)


def scores(path: Path, labels: Path) -> dict[str, dict[str, float]]:
    out = {}
    for lexical in (None, 0.0):
        with Index.open(path, lexical_weight=lexical) as index:
            for set_name in ("trialsim", "secret_test"):
                reranked, retrieved = evaluate_index(index, labels, set_name)
                out[f"{set_name} {'fused' if lexical is None else 'dense'}"] = reranked.metrics | retrieved.metrics
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=ROOT / "index" / "bench")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    bench_records = args.shared / "bench" / "records.zip"
    corpus = args.shared / "data" / "ctgov-xml-6786.zip"
    with zipfile.ZipFile(bench_records) as bundle:
        leave_out = {Path(n).stem for n in bundle.namelist() if n.endswith(".xml")}
    pairs = training_pairs(corpus, leave_out)
    model_dir = args.index.parent / "minilm-finetuned"
    seconds = fine_tune(pairs, model_dir, args.steps, args.batch)
    tuned_index = args.index.parent / "bench-finetuned"
    build_index([bench_records, corpus], tuned_index, model=str(model_dir), progress=True)
    labels = args.shared / "bench" / "labels.csv"
    stock, tuned = scores(args.index, labels), scores(tuned_index, labels)
    lines = [
        f"# Self-supervised fine-tuning ({date.today().isoformat()})",
        "",
        f"{args.steps} steps of {args.batch} pairs ({args.steps * args.batch} of the {len(pairs)} field pairs of "
        f"the corpus trials outside the benchmark) in {seconds / 60:.1f} min on this machine's CPU. Same "
        "records, settings and rows for both models; fused = the default score, dense = without TF-IDF. "
        "Produced by `python benchmarks/finetune.py`.",
        "",
        "| set, score | model | nDCG@5 | P@1 | MAP | R@10 | R@50 | MRR |",
        "|---" * 8 + "|",
    ]
    for key in stock:
        for name, result in (("all-MiniLM-L6-v2", stock[key]), ("fine-tuned", tuned[key])):
            cells = " | ".join(f"{result[m]:.3f}" for m in ("nDCG@5", "P@1", "MAP", "R@10", "R@50", "MRR"))
            lines.append(f"| {key} | {name} | {cells} |")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "finetune.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
