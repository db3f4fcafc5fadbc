"""Filters on related-trial lists: the registry's enum values, a condition, a start-date range, a country.

A `Filters` turns into a SQL condition over the record store; the engine hands the matching ids to
FAISS as an ID selector, so filtering happens inside the search, not by dropping results afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

from .records import Trial
from .records.model import INTERVENTION_TYPES, PHASES, STATUSES, STUDY_TYPES, normalize_date

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass
class Filters:
    """Each list keeps a trial that matches any of its values; different fields must all match."""

    phases: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    study_types: list[str] = field(default_factory=list)
    intervention_types: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)  # MeSH term or text, matched case-insensitively
    countries: list[str] = field(default_factory=list)
    start_from: str = ""  # YYYY, YYYY-MM or YYYY-MM-DD, inclusive
    start_to: str = ""

    def __post_init__(self) -> None:
        for name, singular, valid in (
            ("phases", "phase", PHASES),
            ("statuses", "status", STATUSES),
            ("study_types", "study type", STUDY_TYPES),
            ("intervention_types", "intervention type", INTERVENTION_TYPES),
        ):
            values = [v.strip().upper() for v in getattr(self, name)]
            unknown = [v for v in values if v not in valid]
            if unknown:
                raise ValueError(f"unknown {singular} {', '.join(unknown)}; valid values: {', '.join(valid)}")
            setattr(self, name, values)
        for name in ("start_from", "start_to"):
            value = getattr(self, name).strip()
            if value and not _DATE.match(value):
                raise ValueError(f"{name.replace('_', ' ')} wants YYYY, YYYY-MM or YYYY-MM-DD, got {value!r}")
            setattr(self, name, value)

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def sql(self) -> tuple[str, list[str]]:
        """A WHERE clause over the store's filter columns, and its parameters."""
        clauses: list[str] = []
        params: list[str] = []

        def any_of(column: str, values: list[str], pattern: str) -> None:
            if values:
                clauses.append("(" + " OR ".join(f"{column} LIKE ?" for _ in values) + ")")
                params.extend(pattern.format(v.replace("%", "").replace("_", "\\_")) for v in values)

        any_of("f_phases", self.phases, "%|{}|%")
        any_of("f_intervention_types", self.intervention_types, "%|{}|%")
        any_of("f_countries", [c.lower() for c in self.countries], "%|{}|%")
        any_of("f_conditions", [c.lower() for c in self.conditions], "%{}%")
        for column, values in (("f_status", self.statuses), ("f_study_type", self.study_types)):
            if values:
                clauses.append(f"{column} IN ({','.join('?' * len(values))})")
                params.extend(values)
        if self.start_from:
            clauses.append("f_start_date != '' AND f_start_date >= ?")
            params.append(self.start_from)
        if self.start_to:
            clauses.append("f_start_date != '' AND substr(f_start_date, 1, ?) <= ?")
            params.extend([str(len(self.start_to)), self.start_to])
        where = " AND ".join(clauses) or "1"
        return where.replace("LIKE ?", "LIKE ? ESCAPE '\\'"), params


FILTER_COLUMNS = (
    "f_phases",
    "f_status",
    "f_study_type",
    "f_intervention_types",
    "f_conditions",
    "f_countries",
    "f_start_date",
)


def filter_values(trial: Trial) -> tuple[str, ...]:
    """The store's filter columns for one trial, in `FILTER_COLUMNS` order."""

    def bars(values) -> str:
        values = list(values)
        return "|" + "|".join(values) + "|" if values else ""

    return (
        bars(trial.phases),
        trial.overall_status,
        trial.study_type,
        bars(sorted({i.type for i in trial.interventions if i.type})),
        "|".join(t.lower() for t in [*trial.conditions, *trial.condition_mesh]),
        bars(c.lower() for c in trial.countries),
        normalize_date(trial.start_date) or trial.start_date,
    )
