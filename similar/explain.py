"""Why two trials are related: what their records share, beside the per-field scores."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .records import Trial


@dataclass
class Explanation:
    """Terms both records carry (case-insensitive), and the design facts they agree on."""

    conditions: list[str] = field(default_factory=list)
    condition_mesh: list[str] = field(default_factory=list)
    interventions: list[str] = field(default_factory=list)
    intervention_mesh: list[str] = field(default_factory=list)
    intervention_types: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    study_type: str = ""

    def to_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value}

    def summary(self) -> str:
        """One line for a terminal: the shared terms, most specific first."""
        parts = [
            ("conditions", self.conditions or self.condition_mesh),
            ("interventions", self.interventions or self.intervention_mesh),
            ("intervention types", self.intervention_types),
            ("keywords", self.keywords),
            ("phase", self.phases),
        ]
        text = "; ".join(f"{name}: {' | '.join(values)}" for name, values in parts if values)
        return text or "no shared terms (related by text)"


def shared(left: list[str], right: list[str]) -> list[str]:
    """Items of `left` that `right` also has, ignoring case, in `left`'s order."""
    other = {item.casefold() for item in right}
    return [item for item in dict.fromkeys(left) if item.casefold() in other]


def explain(query: Trial, match: Trial) -> Explanation:
    return Explanation(
        conditions=shared(query.conditions, match.conditions),
        condition_mesh=shared(query.condition_mesh, match.condition_mesh),
        interventions=shared([i.name for i in query.interventions], [i.name for i in match.interventions]),
        intervention_mesh=shared(query.intervention_mesh, match.intervention_mesh),
        intervention_types=shared([i.type for i in query.interventions], [i.type for i in match.interventions]),
        keywords=shared(query.keywords, match.keywords),
        phases=shared(query.phases, match.phases),
        study_type=query.study_type if query.study_type and query.study_type == match.study_type else "",
    )
