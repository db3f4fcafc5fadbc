"""Trial records and the readers for every ClinicalTrials.gov format."""

from .model import Intervention, RecordError, Trial, int_to_nct, nct_to_int
from .sources import Skipped, SourceError, read_records

__all__ = ["Intervention", "RecordError", "Skipped", "SourceError", "Trial", "int_to_nct", "nct_to_int", "read_records"]
