"""Compose the text of each embedded field of a trial.

A trial is embedded per field so that weights can change without re-embedding. An empty string
means the trial has nothing for that field; the engine then imputes that field's vector.
"""

from __future__ import annotations

import hashlib

from .records import Intervention, Trial

FIELDS = ("conditions", "interventions", "description")


def conditions_text(trial: Trial) -> str:
    """Conditions, keywords and condition MeSH terms, de-duplicated case-insensitively."""
    return _join_terms([*trial.conditions, *trial.condition_mesh, *trial.keywords])


def interventions_text(trial: Trial) -> str:
    """One line per intervention: 'Drug: name (other names). description', then the MeSH terms."""
    lines = []
    for item in trial.interventions:
        head = intervention_heading(item)
        lines.append(f"{head}. {item.description}".strip() if item.description else head)
    mesh = _join_terms(trial.intervention_mesh)
    if mesh and lines:
        lines.append(mesh)
    return "\n".join(lines) if lines else mesh


def intervention_heading(item: Intervention) -> str:
    """'Drug: name (other names)': an intervention without its free-text description."""
    kind = item.type.replace("_", " ").capitalize()
    head = f"{kind}: {item.name}" if kind else item.name
    return f"{head} ({', '.join(item.other_names)})" if item.other_names else head


def description_text(trial: Trial) -> str:
    """Title, brief summary and detailed description (the model reads the first 256 tokens)."""
    title = trial.brief_title or trial.official_title
    parts = [title, trial.brief_summary]
    if trial.detailed_description and trial.detailed_description != trial.brief_summary:
        parts.append(trial.detailed_description)
    return "\n".join(part for part in parts if part)


_COMPOSERS = {"conditions": conditions_text, "interventions": interventions_text, "description": description_text}


def field_texts(trial: Trial, fields: tuple[str, ...] = FIELDS) -> dict[str, str]:
    """The text of each field; '' where the trial has none."""
    return {name: _COMPOSERS[name](trial) for name in fields}


def full_text(trial: Trial) -> str:
    """All of a trial's text in one string, for lexical baselines and the naive embedding."""
    return "\n".join(text for text in field_texts(trial).values() if text)


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _join_terms(terms: list[str]) -> str:
    seen: dict[str, str] = {}
    for term in terms:
        seen.setdefault(term.casefold(), term)
    return "; ".join(seen.values())
