"""ClinicalTrials.gov JSON: API v2 study objects and the retired classic API's `FullStudiesResponse`."""

from __future__ import annotations

from typing import Any, Iterator

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


def get(data: Any, path: str, default: Any = None) -> Any:
    """Follow a dotted path through nested dicts; anything missing or of the wrong type gives default."""
    for key in path.split("."):
        if not isinstance(data, dict) or key not in data:
            return default
        data = data[key]
    return default if data is None else data


def _str(data: Any, path: str) -> str:
    value = get(data, path, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise RecordError(f"field {path} should be text, got {type(value).__name__}")
    return clean_text(value)


def _list(data: Any, path: str) -> list:
    value = get(data, path, [])
    if not isinstance(value, list):
        raise RecordError(f"field {path} should be a list, got {type(value).__name__}")
    return value


def _strings(data: Any, path: str) -> list[str]:
    return unique(item for item in _list(data, path) if isinstance(item, str))


def _terms(data: Any, path: str, key: str) -> list[str]:
    return unique(item.get(key) for item in _list(data, path) if isinstance(item, dict))


def is_v2_study(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("protocolSection"), dict)


def is_classic_response(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("FullStudiesResponse"), dict)


def parse_v2_study(study: Any) -> Trial:
    """One API v2 study object (`{"protocolSection": ..., "derivedSection": ...}`)."""
    if not is_v2_study(study):
        raise RecordError("not an API v2 study object (no protocolSection)")
    p = study["protocolSection"]
    derived = get(study, "derivedSection", {})
    interventions = [
        Intervention(
            type=enum_value(_str(item, "type")),
            name=_str(item, "name"),
            description=_str(item, "description"),
            other_names=_strings(item, "otherNames"),
        )
        for item in _list(p, "armsInterventionsModule.interventions")
        if isinstance(item, dict)
    ]
    return Trial(
        nct_id=_str(p, "identificationModule.nctId"),
        brief_title=_str(p, "identificationModule.briefTitle"),
        official_title=_str(p, "identificationModule.officialTitle"),
        acronym=_str(p, "identificationModule.acronym"),
        conditions=_strings(p, "conditionsModule.conditions"),
        keywords=_strings(p, "conditionsModule.keywords"),
        condition_mesh=_terms(derived, "conditionBrowseModule.meshes", "term"),
        interventions=interventions,
        intervention_mesh=_terms(derived, "interventionBrowseModule.meshes", "term"),
        brief_summary=_str(p, "descriptionModule.briefSummary"),
        detailed_description=_str(p, "descriptionModule.detailedDescription"),
        eligibility_criteria=_str(p, "eligibilityModule.eligibilityCriteria"),
        primary_outcomes=_terms(p, "outcomesModule.primaryOutcomes", "measure"),
        sex=normalize_sex(_str(p, "eligibilityModule.sex")),
        minimum_age=_str(p, "eligibilityModule.minimumAge"),
        maximum_age=_str(p, "eligibilityModule.maximumAge"),
        phases=[phase for phase in _strings(p, "designModule.phases") if phase],
        overall_status=normalize_status(_str(p, "statusModule.overallStatus")),
        study_type=normalize_study_type(_str(p, "designModule.studyType")),
        start_date=normalize_date(_str(p, "statusModule.startDateStruct.date")),
        last_update_date=normalize_date(_str(p, "statusModule.lastUpdatePostDateStruct.date")),
        countries=unique(get(loc, "country", "") for loc in _list(p, "contactsLocationsModule.locations")),
        lead_sponsor=_str(p, "sponsorCollaboratorsModule.leadSponsor.name"),
    )


def classic_studies(response: dict) -> Iterator[Any]:
    """The `Study` objects of a classic `FullStudiesResponse`."""
    for entry in _list(response, "FullStudiesResponse.FullStudies"):
        yield get(entry, "Study", entry)


def parse_classic_study(study: Any) -> Trial:
    """One `Study` of the classic API (PascalCase fields, lists wrapped in `...List` objects)."""
    p = get(study, "ProtocolSection")
    if not isinstance(p, dict):
        raise RecordError("not a classic API study (no ProtocolSection)")
    derived = get(study, "DerivedSection", {})
    interventions = [
        Intervention(
            type=enum_value(_str(item, "InterventionType")),
            name=_str(item, "InterventionName"),
            description=_str(item, "InterventionDescription"),
            other_names=_strings(item, "InterventionOtherNameList.InterventionOtherName"),
        )
        for item in _list(p, "ArmsInterventionsModule.InterventionList.Intervention")
        if isinstance(item, dict)
    ]
    phases = [phase for text in _strings(p, "DesignModule.PhaseList.Phase") for phase in normalize_phase(text)]
    return Trial(
        nct_id=_str(p, "IdentificationModule.NCTId"),
        brief_title=_str(p, "IdentificationModule.BriefTitle"),
        official_title=_str(p, "IdentificationModule.OfficialTitle"),
        acronym=_str(p, "IdentificationModule.Acronym"),
        conditions=_strings(p, "ConditionsModule.ConditionList.Condition"),
        keywords=_strings(p, "ConditionsModule.KeywordList.Keyword"),
        condition_mesh=_terms(derived, "ConditionBrowseModule.ConditionMeshList.ConditionMesh", "ConditionMeshTerm"),
        interventions=interventions,
        intervention_mesh=_terms(
            derived, "InterventionBrowseModule.InterventionMeshList.InterventionMesh", "InterventionMeshTerm"
        ),
        brief_summary=_str(p, "DescriptionModule.BriefSummary"),
        detailed_description=_str(p, "DescriptionModule.DetailedDescription"),
        eligibility_criteria=_str(p, "EligibilityModule.EligibilityCriteria"),
        primary_outcomes=_terms(p, "OutcomesModule.PrimaryOutcomeList.PrimaryOutcome", "PrimaryOutcomeMeasure"),
        sex=normalize_sex(_str(p, "EligibilityModule.Gender")),
        minimum_age=_str(p, "EligibilityModule.MinimumAge"),
        maximum_age=_str(p, "EligibilityModule.MaximumAge"),
        phases=list(dict.fromkeys(phases)),
        overall_status=normalize_status(_str(p, "StatusModule.OverallStatus")),
        study_type=normalize_study_type(_str(p, "DesignModule.StudyType")),
        start_date=normalize_date(_str(p, "StatusModule.StartDateStruct.StartDate")),
        last_update_date=normalize_date(_str(p, "StatusModule.LastUpdatePostDateStruct.LastUpdatePostDate")),
        countries=unique(
            get(loc, "LocationCountry", "") for loc in _list(p, "ContactsLocationsModule.LocationList.Location")
        ),
        lead_sponsor=_str(p, "SponsorCollaboratorsModule.LeadSponsor.LeadSponsorName"),
    )
