"""The registry site's CSV download (`NCT Number`, `Study Title`, ... with lists joined by `|`)."""

from __future__ import annotations

from .model import (
    Intervention,
    RecordError,
    Trial,
    clean_text,
    enum_value,
    normalize_date,
    normalize_phase,
    normalize_sex,
    normalize_status,
    normalize_study_type,
    unique,
)

REQUIRED_COLUMNS = ("NCT Number", "Study Title")


def is_csv_header(fieldnames: list[str] | None) -> bool:
    return bool(fieldnames) and all(column in fieldnames for column in REQUIRED_COLUMNS)


def _split(value: str | None) -> list[str]:
    return unique((value or "").split("|"))


def _intervention(text: str) -> Intervention:
    kind, sep, name = text.partition(":")
    if sep and enum_value(kind) == kind.strip():
        return Intervention(type=kind.strip(), name=clean_text(name))
    return Intervention(name=clean_text(text))


def _country(location: str) -> str:
    return location.rsplit(",", 1)[-1].strip()


def parse_csv_row(row: dict[str, str | None]) -> Trial:
    """One row of the CSV export; the export carries no detailed description, keywords or MeSH terms."""
    if None in row:
        raise RecordError("row has more fields than the header")
    return Trial(
        nct_id=clean_text(row.get("NCT Number")),
        brief_title=clean_text(row.get("Study Title")),
        acronym=clean_text(row.get("Acronym")),
        conditions=_split(row.get("Conditions")),
        interventions=[_intervention(text) for text in _split(row.get("Interventions"))],
        brief_summary=clean_text(row.get("Brief Summary")),
        primary_outcomes=[m.split(",", 1)[0] for m in _split(row.get("Primary Outcome Measures"))],
        sex=normalize_sex(row.get("Sex") or ""),
        phases=[p for text in _split(row.get("Phases")) for p in normalize_phase(text)],
        overall_status=normalize_status(row.get("Study Status") or ""),
        study_type=normalize_study_type(row.get("Study Type") or ""),
        start_date=normalize_date(row.get("Start Date") or ""),
        last_update_date=normalize_date(row.get("Last Update Posted") or ""),
        countries=unique(_country(loc) for loc in _split(row.get("Locations"))),
        lead_sponsor=clean_text(row.get("Sponsor")),
    )
