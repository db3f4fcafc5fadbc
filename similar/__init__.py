"""similar: rank the related clinical trials of any ClinicalTrials.gov record."""

from .build import (
    DEFAULT_INDEX,
    DEFAULT_LEXICAL_WEIGHT,
    DEFAULT_WEIGHTS,
    BuildError,
    BuildSummary,
    build_index,
    bundled_sample,
)
from .embed import DEFAULT_MAX_TOKENS, DEFAULT_MODEL, EmbedderError, load_embedder
from .engine import Index, Match, UnknownTrialError
from .evaluate import evaluate_index
from .export import ExportSummary, write_all_related
from .fetch import FetchError, FetchQuery, fetch
from .filters import Filters
from .manifest import IndexFileError, Manifest
from .records import Intervention, RecordError, Skipped, SourceError, Trial, read_records
from .update import UpdateSummary, remove_from_index, update_index

__all__ = [
    "DEFAULT_INDEX",
    "DEFAULT_LEXICAL_WEIGHT",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_MODEL",
    "DEFAULT_WEIGHTS",
    "BuildError",
    "BuildSummary",
    "EmbedderError",
    "ExportSummary",
    "FetchError",
    "FetchQuery",
    "Filters",
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
    "UpdateSummary",
    "build_index",
    "bundled_sample",
    "evaluate_index",
    "fetch",
    "load_embedder",
    "read_records",
    "remove_from_index",
    "update_index",
    "write_all_related",
]
