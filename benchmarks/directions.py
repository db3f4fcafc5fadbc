"""Issue 4's directions, each measured against the engine's default score on the same labelled rows.

    python benchmarks/quality.py            # builds index/bench first
    python benchmarks/directions.py [--index index/bench]

For each labelled query, every trial of the index is scored exactly from the index's stored field vectors
and TF-IDF, plus texts the index does not embed (title, eligibility criteria, primary outcomes, intervention
names, description sentences), embedded here with the index's own model and cached beside the index.
Each direction changes one thing of the default score (equal-thirds field cosines, fused half and half
with the whole-record TF-IDF cosine). Columns: re-rank metrics, exact retrieval over the whole index, and,
on TrialSim (the only set with rows to choose on), a paired bootstrap 95% interval of the nDCG@5 change.
Writes benchmarks/results/directions.md and directions.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import zipfile
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np

from similar import Index, Trial
from similar.embed import normalize_rows
from similar.evaluate import load_labels, rank_metrics, ranked_labels, retrieval, scorable, top_ids
from similar.lexical import Bm25Scorer, jaccard
from similar.text import intervention_heading
from similar.vectors import impute

ROOT = Path(__file__).resolve().parents[1]
SETS = ("trialsim", "secret_test")
DENSE = ("conditions", "interventions", "description")
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])|\n+")
MAX_SENTENCES = 40

Features = dict[str, np.ndarray]


def intervention_names(trial: Trial) -> str:
    """'Drug: name (other names)' per intervention, without the free-text description."""
    return "\n".join(intervention_heading(item) for item in trial.interventions)


EXTRA_TEXTS: dict[str, Callable[[Trial], str]] = {
    "title": lambda t: t.brief_title or t.official_title,
    "official title": lambda t: t.official_title or t.brief_title,
    "eligibility": lambda t: t.eligibility_criteria,
    "primary outcomes": lambda t: "; ".join(t.primary_outcomes),
    "intervention names": intervention_names,
}


def sentences(trial: Trial) -> list[str]:
    """The description's sentences of four words or more (at most MAX_SENTENCES)."""
    parts = [trial.brief_summary]
    if trial.detailed_description != trial.brief_summary:
        parts.append(trial.detailed_description)
    text = "\n".join(p for p in parts if p)
    return [s.strip() for s in SENTENCE.split(text) if len(s.split()) >= 4][:MAX_SENTENCES]


def embed_extras(index: Index, trials: list[Trial], cache: Path) -> dict[str, np.ndarray]:
    """Vectors of the extra texts and of the description sentences, cached by model and record ids."""
    key = hashlib.sha256((index.manifest.model + "".join(t.nct_id for t in trials)).encode()).hexdigest()[:16]
    if cache.exists():
        data = dict(np.load(cache))
        if str(data.get("key")) == key:
            return data
    data: dict[str, np.ndarray] = {"key": np.array(key)}
    for name, compose in EXTRA_TEXTS.items():
        texts = [compose(t) or "" for t in trials]
        present = np.array([bool(s.strip()) for s in texts])
        vectors = np.zeros((len(trials), index.manifest.dimension), dtype=np.float32)
        vectors[present] = index.embedder.encode([s for s in texts if s.strip()], progress=True)
        data[name], data[name + ":present"] = vectors, present
    split = [sentences(t) for t in trials]
    data["sentences"] = index.embedder.encode([s for group in split for s in group], progress=True)
    data["sentence owner"] = np.repeat(np.arange(len(trials)), [len(g) for g in split])
    np.savez(cache, **data)
    return data


def self_supervised_adapter(vectors: np.ndarray, present: np.ndarray, train: np.ndarray, seed: int = 0):
    """A 384x384 linear map trained with in-batch InfoNCE to pull a trial's own fields together
    (conditions-description, interventions-description, conditions-interventions), kept near identity."""
    import torch

    cross_entropy = torch.nn.functional.cross_entropy
    torch.manual_seed(seed)
    pairs = [(a, b, train[present[train, a] & present[train, b]]) for a, b in ((0, 2), (1, 2), (0, 1))]
    left_t = torch.tensor(np.concatenate([vectors[rows, a] for a, _, rows in pairs]))
    right_t = torch.tensor(np.concatenate([vectors[rows, b] for _, b, rows in pairs]))
    dim = vectors.shape[2]
    weight = torch.nn.Parameter(torch.eye(dim))
    optimizer = torch.optim.Adam([weight], lr=1e-3)
    for _ in range(10):
        for batch in torch.randperm(len(left_t)).split(256):
            a = torch.nn.functional.normalize(left_t[batch] @ weight, dim=1)
            b = torch.nn.functional.normalize(right_t[batch] @ weight, dim=1)
            logits, target = a @ b.T / 0.05, torch.arange(len(batch))
            both_ways = cross_entropy(logits, target) + cross_entropy(logits.T, target)
            loss = both_ways / 2 + 0.1 * ((weight - torch.eye(dim)) ** 2).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return weight.detach().numpy()


class Scores:
    """Every per-trial feature of one query against the whole index: field cosines, TF-IDF, extras, MeSH."""

    def __init__(self, index: Index, trials: list[Trial], extras: dict[str, np.ndarray], bench: set[str]) -> None:
        self.index = index
        raw = np.asarray(index.vectors)
        self.present = index.present
        self.fields = {"stored": impute(raw, self.present)}
        centred = raw - np.array([raw[self.present[:, j], j].mean(0) for j in range(raw.shape[1])])[None]
        self.fields["centred"] = self._refill(centred)
        train = np.array([i for i, t in enumerate(trials) if t.nct_id not in bench])
        weight = self_supervised_adapter(raw, self.present, train)
        self.fields["adapter"] = self._refill(raw @ weight)
        self.extras = extras
        self.owner = extras["sentence owner"]
        self.has_sentences = np.bincount(self.owner, minlength=len(trials)) > 0
        self.starts = np.searchsorted(self.owner, np.arange(len(trials)))[self.has_sentences]
        self.sentence_counts = np.bincount(self.owner)[self.has_sentences]
        self.sets = {
            "condition MeSH": [{m.casefold() for m in t.condition_mesh} for t in trials],
            "intervention MeSH": [{m.casefold() for m in t.intervention_mesh} for t in trials],
            "intervention types": [{i.type for i in t.interventions} for t in trials],
            "phases": [set(t.phases) for t in trials],
            "study type": [{t.study_type} - {""} for t in trials],
        }
        self.bm25 = Bm25Scorer(trials)
        self._cache: dict[int, Features] = {}  # one entry per labelled query (about 50)

    def _refill(self, vectors: np.ndarray) -> np.ndarray:
        out = np.stack([normalize_rows(vectors[:, j]) for j in range(vectors.shape[1])], axis=1)
        out[~self.present] = 0
        return impute(out, self.present)

    def of(self, row: int) -> Features:
        if row not in self._cache:
            self._cache[row] = self._features(row)
        return self._cache[row]

    def _features(self, row: int) -> Features:
        f: Features = {}
        for kind, vectors in self.fields.items():
            for j, name in enumerate(DENSE):
                f[f"{kind} {name}"] = vectors[:, j] @ vectors[row, j]
        f["tfidf"] = self.index.tfidf.cosines(self.index.tfidf.matrix[row])
        bm25 = self.bm25.scores_all(self.bm25.nct_ids[row]).astype(np.float64)
        f["bm25"] = bm25 / max(np.delete(bm25, row).max(), 1e-9)  # the best other trial scores 1
        for name in EXTRA_TEXTS:
            vectors, present = self.extras[name], self.extras[name + ":present"]
            cosine = vectors @ vectors[row]
            f[name] = np.where(present & present[row], cosine, f["stored description"])
        f["sentence max-sim"] = self._max_sim(row, f["stored description"])
        for name, sets in self.sets.items():
            mine = sets[row]
            f[name] = np.array([jaccard(mine, other) for other in sets], dtype=np.float32)
        return f

    def _max_sim(self, row: int, fallback: np.ndarray) -> np.ndarray:
        """Mean over each side's sentences of the best cosine with the other side's, averaged both ways."""
        if not self.has_sentences[row]:
            return fallback
        vectors = self.extras["sentences"]
        similarity = vectors[self.owner == row] @ vectors.T
        query_side = np.maximum.reduceat(similarity, self.starts, axis=1).mean(axis=0)
        other_side = np.add.reduceat(similarity.max(axis=0), self.starts) / self.sentence_counts
        out = fallback.copy()
        out[self.has_sentences] = (query_side + other_side) / 2
        return out


def dense(f: Features, kind: str = "stored", replace: dict[str, str] | None = None) -> np.ndarray:
    names = [(replace or {}).get(n, f"{kind} {n}") for n in DENSE]
    return sum(f[n] for n in names) / len(names)


def default(f: Features) -> np.ndarray:
    return 0.5 * dense(f) + 0.5 * f["tfidf"]


def zscore(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() + 1e-9)


def reciprocal_rank(x: np.ndarray, k: int = 60) -> np.ndarray:
    ranks = np.empty(len(x))
    ranks[np.argsort(-x, kind="stable")] = np.arange(1, len(x) + 1)
    return 1 / (k + ranks)


def geometric_mean(cosines: list[np.ndarray]) -> np.ndarray:
    """A soft AND: high only when every field agrees (cosines floored at 0.001)."""
    return np.prod([np.clip(c, 1e-3, None) for c in cosines], axis=0) ** (1 / len(cosines))


def with_field(name: str) -> Callable[[Features], np.ndarray]:
    return lambda f: 0.5 * (3 * dense(f) + f[name]) / 4 + 0.5 * f["tfidf"]


def plus(name: str, weight: float) -> Callable[[Features], np.ndarray]:
    return lambda f: default(f) + weight * f[name]


DIRECTIONS: list[tuple[str, str, Callable[[Features], np.ndarray]]] = [
    ("baseline", "similar (default: 3 fields + TF-IDF, 1:1)", default),
    ("baseline", "dense fields only", dense),
    ("baseline", "TF-IDF only", lambda f: f["tfidf"]),
    *[
        ("more fields", f"+ {n} as a 4th field", with_field(n))
        for n in ("title", "official title", "eligibility", "primary outcomes")
    ],
    (
        "field content",
        "intervention names only (no descriptions)",
        lambda f: 0.5 * dense(f, replace={"interventions": "intervention names"}) + 0.5 * f["tfidf"],
    ),
    (
        "hybrid",
        "reciprocal-rank fusion (k=60) of dense and TF-IDF",
        lambda f: reciprocal_rank(dense(f)) + reciprocal_rank(f["tfidf"]),
    ),
    ("hybrid", "calibrated sum: z-scored dense + z-scored TF-IDF", lambda f: zscore(dense(f)) + zscore(f["tfidf"])),
    ("hybrid", "BM25 (scaled to the best other trial) instead of TF-IDF", lambda f: 0.5 * dense(f) + 0.5 * f["bm25"]),
    (
        "hybrid",
        "reciprocal-rank fusion (k=60) of dense and BM25",
        lambda f: reciprocal_rank(dense(f)) + reciprocal_rank(f["bm25"]),
    ),
    ("vocabulary", "+ 0.2 x condition MeSH Jaccard", plus("condition MeSH", 0.2)),
    ("vocabulary", "+ 0.2 x intervention MeSH Jaccard", plus("intervention MeSH", 0.2)),
    ("vocabulary", "+ 0.1 x intervention type Jaccard", plus("intervention types", 0.1)),
    ("vocabulary", "+ 0.1 x phase Jaccard", plus("phases", 0.1)),
    ("vocabulary", "+ 0.1 x same study type", plus("study type", 0.1)),
    (
        "rerank",
        "description as sentence max-sim",
        lambda f: 0.5 * dense(f, replace={"description": "sentence max-sim"}) + 0.5 * f["tfidf"],
    ),
    ("rerank", "+ sentence max-sim as a 4th field", with_field("sentence max-sim")),
    (
        "combination",
        "soft AND: geometric mean of field cosines",
        lambda f: 0.5 * geometric_mean([f[f"stored {n}"] for n in DENSE]) + 0.5 * f["tfidf"],
    ),
    ("embedding", "corpus-centred field vectors", lambda f: 0.5 * dense(f, "centred") + 0.5 * f["tfidf"]),
    ("embedding", "self-supervised linear adapter", lambda f: 0.5 * dense(f, "adapter") + 0.5 * f["tfidf"]),
]


def measure(scores: Scores, rows, rank_of: dict[str, int], nct_ids: list[str], direction) -> dict:
    """Mean re-rank and exact-retrieval metrics of one direction, and its per-row nDCG@5."""

    def values(query: str) -> np.ndarray:
        return np.asarray(direction(scores.of(rank_of[query])), dtype=np.float64)

    per_row = [rank_metrics(ranked_labels(r, values(r.query)[[rank_of[c] for c in r.candidates]])) for r in rows]
    retrieved = retrieval("", rows, lambda query, depth: top_ids(values(query), nct_ids, query, depth)).metrics
    return {
        **{name: float(np.mean([m[name] for m in per_row])) for name in ("nDCG@5", "P@1", "MAP")},
        "R@10": retrieved["R@10"],
        "MRR": retrieved["MRR"],
        "per_row": [m["nDCG@5"] for m in per_row],
    }


def bootstrap_interval(change: np.ndarray, draws: int = 10000, seed: int = 0) -> tuple[float, float]:
    """95% interval of the mean of paired per-row differences, resampling rows."""
    rng = np.random.default_rng(seed)
    means = change[rng.integers(0, len(change), (draws, len(change)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=ROOT / "index" / "bench")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    labels = args.shared / "bench" / "labels.csv"
    with zipfile.ZipFile(args.shared / "bench" / "records.zip") as bundle:
        bench = {Path(n).stem for n in bundle.namelist() if n.endswith(".xml")}

    with Index.open(args.index) as index:
        nct_ids = index.store.nct_ids()
        rank_of = {n: i for i, n in enumerate(nct_ids)}
        trials = [index.store.trial(i) for i in range(len(index))]
        extras = embed_extras(index, trials, args.index.with_name(args.index.name + "-extras.npz"))
        scores = Scores(index, trials, extras, bench)
        results = {}
        for set_name in SETS:
            rows = scorable(load_labels(labels, set_name), index.__contains__)
            results[set_name] = {name: measure(scores, rows, rank_of, nct_ids, fn) for _, name, fn in DIRECTIONS}
            print(f"{set_name}: {len(rows)} rows measured", file=sys.stderr)
    text = report(results, len(trials))
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "directions.md").write_text(text, encoding="utf-8")
    for per_set in results.values():
        for item in per_set.values():
            item.pop("per_row")
    (args.out / "directions.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


def report(results: dict, count: int) -> str:
    base = DIRECTIONS[0][1]
    trialsim = results["trialsim"]
    lines = [
        f"# Issue 4 directions, one at a time ({date.today().isoformat()})",
        "",
        f"Index: {count} trials (benchmark records + ctgov-xml-6786.zip). Each score is computed exactly over the "
        "whole index; retrieval (R@10, MRR) is therefore exact, not FAISS's candidate pool. nDCG@5 / P@1 are "
        "re-rank metrics over the complete rows. Choices are made on TrialSim only: its last column is the "
        "paired bootstrap 95% interval of the nDCG@5 change against the default. SECRET test is reported, "
        "never chosen on. Produced by `python benchmarks/directions.py`.",
        "",
        "| group | direction | TrialSim nDCG@5 / P@1 | TrialSim R@10 / MRR | SECRET test nDCG@5 / P@1 | "
        "SECRET test R@10 / MRR | TrialSim nDCG@5 change (95% CI) |",
        "|---" * 7 + "|",
    ]
    for group, name, _ in DIRECTIONS:
        t, s = trialsim[name], results["secret_test"][name]
        change = np.array(t["per_row"]) - np.array(trialsim[base]["per_row"])
        low, high = bootstrap_interval(change)
        interval = "-" if name == base else f"{change.mean():+.3f} ({low:+.3f}, {high:+.3f})"
        lines.append(
            f"| {group} | {name} | {t['nDCG@5']:.3f} / {t['P@1']:.3f} | {t['R@10']:.3f} / {t['MRR']:.3f} | "
            f"{s['nDCG@5']:.3f} / {s['P@1']:.3f} | {s['R@10']:.3f} / {s['MRR']:.3f} | {interval} |"
        )
    return "\n".join(lines + ["", NOT_MEASURED]) + "\n"


NOT_MEASURED = """Measured elsewhere or not measurable here:
- field weights: a 0.1-step grid on TrialSim, every weighting within 0.007 nDCG@5 (README, "How it ranks");
- a better model: all-mpnet-base-v2 (the only other model with weights on PyPI) gave TrialSim 0.941 and
  SECRET test 0.544 nDCG@5 on the benchmark records, at about a tenth of MiniLM's speed (MODELS.md: ~5
  against ~55 trials/s in bfloat16); no biomedical model ships its weights on PyPI (../shared/MODELS.md);
- fine-tuning the model itself: `benchmarks/finetune.py`, results in finetune.md;
- a cross-encoder: none ships its weights on PyPI;
- the MeSH hierarchy: the benchmark records are legacy XML with MeSH terms only (API v2 records carry
  ancestors, but none of the labelled trials is held in that format) and no PyPI package ships the MeSH tree."""


if __name__ == "__main__":
    sys.exit(main())
