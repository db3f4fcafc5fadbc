"""The `Trial` record every reader produces, and the registry's enum spellings it uses."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

NCT_PATTERN = re.compile(r"^NCT\d{8}$")

PHASES = ("EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA")
STATUSES = (
    "ACTIVE_NOT_RECRUITING",
    "COMPLETED",
    "ENROLLING_BY_INVITATION",
    "NOT_YET_RECRUITING",
    "RECRUITING",
    "SUSPENDED",
    "TERMINATED",
    "WITHDRAWN",
    "AVAILABLE",
    "NO_LONGER_AVAILABLE",
    "TEMPORARILY_NOT_AVAILABLE",
    "APPROVED_FOR_MARKETING",
    "WITHHELD",
    "UNKNOWN",
)
STUDY_TYPES = ("INTERVENTIONAL", "OBSERVATIONAL", "EXPANDED_ACCESS")
INTERVENTION_TYPES = (
    "BEHAVIORAL",
    "BIOLOGICAL",
    "COMBINATION_PRODUCT",
    "DEVICE",
    "DIAGNOSTIC_TEST",
    "DIETARY_SUPPLEMENT",
    "DRUG",
    "GENETIC",
    "OTHER",
    "PROCEDURE",
    "RADIATION",
)
SEXES = ("ALL", "FEMALE", "MALE")


class RecordError(ValueError):
    """A record that cannot become a `Trial`: the message says why."""


@dataclass
class Intervention:
    type: str = ""
    name: str = ""
    description: str = ""
    other_names: list[str] = field(default_factory=list)


@dataclass
class Trial:
    """One ClinicalTrials.gov study, whatever format it was read from."""

    nct_id: str
    brief_title: str = ""
    official_title: str = ""
    acronym: str = ""
    conditions: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    condition_mesh: list[str] = field(default_factory=list)
    interventions: list[Intervention] = field(default_factory=list)
    intervention_mesh: list[str] = field(default_factory=list)
    brief_summary: str = ""
    detailed_description: str = ""
    eligibility_criteria: str = ""
    primary_outcomes: list[str] = field(default_factory=list)
    sex: str = ""
    minimum_age: str = ""
    maximum_age: str = ""
    phases: list[str] = field(default_factory=list)
    overall_status: str = ""
    study_type: str = ""
    start_date: str = ""
    last_update_date: str = ""
    countries: list[str] = field(default_factory=list)
    lead_sponsor: str = ""

    @property
    def title(self) -> str:
        return self.brief_title or self.official_title or self.acronym

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Trial:
        values = dict(data)
        values["interventions"] = [Intervention(**i) for i in values.get("interventions", [])]
        return cls(**values)


def validate(trial: Trial) -> Trial:
    """Refuse a record without a well-formed NCT id or without any text beyond its title."""
    if not NCT_PATTERN.match(trial.nct_id or ""):
        raise RecordError(f"no valid NCT id (got {trial.nct_id!r})")
    if not (
        trial.brief_summary or trial.detailed_description or trial.conditions or trial.interventions or trial.keywords
    ):
        raise RecordError("no text at all (no summary, description, conditions or interventions)")
    return trial


def nct_to_int(nct_id: str) -> int:
    """NCT03945487 -> 3945487: the int64 id FAISS stores."""
    if not NCT_PATTERN.match(nct_id):
        raise RecordError(f"not an NCT id: {nct_id!r}")
    return int(nct_id[3:])


def int_to_nct(number: int) -> str:
    return f"NCT{int(number):08d}"


def enum_value(text: str) -> str:
    """'Not yet recruiting' / 'Active, not recruiting' / 'Dietary Supplement' -> registry enum."""
    return re.sub(r"[^A-Z0-9]+", "_", (text or "").strip().upper()).strip("_")


def normalize_phase(text: str) -> list[str]:
    """Legacy 'Phase 1/Phase 2', 'Early Phase 1', 'N/A' and CSV 'PHASE1|PHASE2' -> enum list."""
    text = (text or "").strip()
    if not text:
        return []
    if text.upper() in ("N/A", "NA", "NOT APPLICABLE"):
        return ["NA"]
    phases = []
    for part in re.split(r"[/|,]", text):
        value = enum_value(part).replace("PHASE_", "PHASE").replace("EARLY_PHASE", "EARLY_PHASE")
        if value == "EARLY_PHASE_1":
            value = "EARLY_PHASE1"
        if value in PHASES and value not in phases:
            phases.append(value)
    return phases


def normalize_status(text: str) -> str:
    """'Active, not recruiting' -> 'ACTIVE_NOT_RECRUITING'; legacy 'Unknown status' -> 'UNKNOWN'."""
    value = enum_value(text)
    return "UNKNOWN" if value == "UNKNOWN_STATUS" else value


def normalize_study_type(text: str) -> str:
    """'Observational [Patient Registry]' -> 'OBSERVATIONAL'; unknown spellings -> ''."""
    value = enum_value(text)
    return next((kind for kind in STUDY_TYPES if value.startswith(kind)), "")


def normalize_sex(text: str) -> str:
    value = enum_value(text)
    return {"BOTH": "ALL"}.get(value, value if value in SEXES else "")


_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m", "%B %d, %Y", "%B %Y", "%b %d, %Y", "%b %Y")


def normalize_date(text: str) -> str:
    """'November 1997' -> '1997-11', 'March 4, 2021' -> '2021-03-04'; ISO dates pass through."""
    text = (text or "").strip()
    if not text:
        return ""
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed.strftime("%Y-%m" if "%d" not in fmt else "%Y-%m-%d")
    return ""


def clean_text(text: str | None) -> str:
    """Collapse the legacy XML's hard line wraps and indentation, keep paragraph breaks."""
    if not text:
        return ""
    text = text.replace("\r", "")
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def unique(items) -> list[str]:
    """Non-empty strings in first-seen order, without duplicates."""
    seen: dict[str, None] = {}
    for item in items:
        item = clean_text(item) if isinstance(item, str) else ""
        if item:
            seen.setdefault(item, None)
    return list(seen)
