"""similar: rank the related clinical trials of any ClinicalTrials.gov record."""

from .build import DEFAULT_INDEX, DEFAULT_WEIGHTS, BuildError, BuildSummary, build_index
from .embed import DEFAULT_MODEL, EmbedderError, load_embedder
from .engine import Index, Match, UnknownTrialError
from .evaluate import evaluate_index
from .fetch import FetchError, FetchQuery, fetch
from .manifest import IndexFileError, Manifest
from .records import Intervention, RecordError, Skipped, SourceError, Trial, read_records

__all__ = [
    "DEFAULT_INDEX",
    "DEFAULT_MODEL",
    "DEFAULT_WEIGHTS",
    "BuildError",
    "BuildSummary",
    "EmbedderError",
    "FetchError",
    "FetchQuery",
    "Index",
    "IndexFileError",
    "Intervention",
    "Manifest",
    "Match",
    "RecordError",
    "Skipped",
    "SourceError",
    "Trial",
    "UnknownTrialError",
    "build_index",
    "evaluate_index",
    "fetch",
    "load_embedder",
    "read_records",
]
