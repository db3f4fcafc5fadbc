"""Filters act inside the search: the filtered list is the unfiltered ranking restricted to the trials that pass."""

from __future__ import annotations

import pytest

from similar import Filters
from similar.cli import main

QUERY = "NCT00000409"


def passes(trial, filters: Filters) -> bool:
    checks = [
        not filters.phases or set(trial.phases) & set(filters.phases),
        not filters.statuses or trial.overall_status in filters.statuses,
        not filters.study_types or trial.study_type in filters.study_types,
        not filters.intervention_types or {i.type for i in trial.interventions} & set(filters.intervention_types),
        not filters.countries or {c.lower() for c in trial.countries} & {c.lower() for c in filters.countries},
        not filters.conditions
        or any(
            c.lower() in term.lower() for c in filters.conditions for term in [*trial.conditions, *trial.condition_mesh]
        ),
        not filters.start_from or (trial.start_date and trial.start_date >= filters.start_from),
        not filters.start_to or (trial.start_date and trial.start_date[: len(filters.start_to)] <= filters.start_to),
    ]
    return all(checks)


@pytest.mark.parametrize(
    "filters",
    [
        Filters(phases=["PHASE3"]),
        Filters(statuses=["COMPLETED", "TERMINATED"], study_types=["INTERVENTIONAL"]),
        Filters(intervention_types=["DRUG"], phases=["PHASE2", "PHASE3"]),
        Filters(countries=["canada"]),
        Filters(conditions=["neoplasm"]),
        Filters(start_from="2005-01", start_to="2009"),
    ],
)
def test_filtered_related_is_the_ranking_restricted_to_passing_trials(hashing_index, filters):
    everything = hashing_index.related(QUERY, k=len(hashing_index))
    expected = [m.nct_id for m in everything if passes(hashing_index.trial(m.nct_id), filters)][:10]
    got = hashing_index.related(QUERY, k=10, filters=filters)
    assert len(expected) == 10, "the filter should leave at least k trials in the benchmark records"
    assert [m.nct_id for m in got] == expected


def test_a_filter_nothing_passes_gives_an_empty_list(hashing_index):
    assert hashing_index.related(QUERY, k=5, filters=Filters(countries=["Atlantis"])) == []


def test_unknown_values_are_errors_that_list_the_valid_ones():
    with pytest.raises(ValueError, match="unknown phase PHASE9; valid values: EARLY_PHASE1, PHASE1"):
        Filters(phases=["PHASE9"])
    with pytest.raises(ValueError, match="unknown status RECRUTING; valid values: .*RECRUITING"):
        Filters(statuses=["RECRUTING"])
    with pytest.raises(ValueError, match="start from wants YYYY"):
        Filters(start_from="last year")
    assert Filters(phases=["phase2"]).phases == ["PHASE2"]


def test_cli_filters_and_their_errors(hashing_index_path, capsys):
    code = main(["related", QUERY, "-k", "3", "--json", "--phase", "PHASE3,PHASE4", "--index", str(hashing_index_path)])
    assert code == 0
    code = main(["related", QUERY, "--study-type", "INTERVENTIONL", "--index", str(hashing_index_path)])
    error = capsys.readouterr().err
    assert code == 2 and "unknown study type INTERVENTIONL; valid values: INTERVENTIONAL" in error
