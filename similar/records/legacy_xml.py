"""Legacy ClinicalTrials.gov XML (`<clinical_study>`, the AllPublicXML download)."""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

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


def parse_xml(data: bytes) -> Trial:
    """Parse one `<clinical_study>` document; DTDs and entities are refused, never resolved."""
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise RecordError(f"unsafe XML refused: {type(error).__name__}") from None
    except ParseError as error:
        raise RecordError(f"malformed XML: {error}") from None
    if root.tag != "clinical_study":
        raise RecordError(f"not a ClinicalTrials.gov study: root element <{root.tag}>")
    return trial_from_element(root)


def _text(node: Element | None, path: str) -> str:
    found = node.find(path) if node is not None else None
    if found is None:
        return ""
    return clean_text("".join(found.itertext()))


def _texts(node: Element, path: str) -> list[str]:
    return unique("".join(found.itertext()) for found in node.findall(path))


def trial_from_element(root: Element) -> Trial:
    interventions = [
        Intervention(
            type=enum_value(_text(item, "intervention_type")),
            name=_text(item, "intervention_name"),
            description=_text(item, "description"),
            other_names=_texts(item, "other_name"),
        )
        for item in root.findall("intervention")
    ]
    eligibility = root.find("eligibility")
    age_limit = lambda tag: "" if _text(eligibility, tag) in ("", "N/A") else _text(eligibility, tag)  # noqa: E731
    return Trial(
        nct_id=_text(root, "id_info/nct_id"),
        brief_title=_text(root, "brief_title"),
        official_title=_text(root, "official_title"),
        acronym=_text(root, "acronym"),
        conditions=_texts(root, "condition"),
        keywords=_texts(root, "keyword"),
        condition_mesh=_texts(root, "condition_browse/mesh_term"),
        interventions=interventions,
        intervention_mesh=_texts(root, "intervention_browse/mesh_term"),
        brief_summary=_text(root, "brief_summary/textblock"),
        detailed_description=_text(root, "detailed_description/textblock"),
        eligibility_criteria=_text(eligibility, "criteria/textblock"),
        primary_outcomes=_texts(root, "primary_outcome/measure"),
        sex=normalize_sex(_text(eligibility, "gender")),
        minimum_age=age_limit("minimum_age"),
        maximum_age=age_limit("maximum_age"),
        phases=normalize_phase(_text(root, "phase")),
        overall_status=normalize_status(_text(root, "overall_status")),
        study_type=normalize_study_type(_text(root, "study_type")),
        start_date=normalize_date(_text(root, "start_date")),
        last_update_date=normalize_date(_text(root, "last_update_posted") or _text(root, "last_update_submitted")),
        countries=_texts(root, "location_countries/country"),
        lead_sponsor=_text(root, "sponsors/lead_sponsor/agency"),
    )
