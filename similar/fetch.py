"""Fetch study records from the ClinicalTrials.gov API v2 (`/studies`) into a JSONL file.

Pages are appended as they arrive, and the next page token is saved beside the output
(`OUT.fetch.json`), so an interrupted fetch resumes where it stopped; NCT ids already in the file are
never written twice. 429 and 5xx answers are retried with exponential backoff (honouring
Retry-After), and requests are spaced to keep a polite rate.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from tqdm import tqdm

from .jsonl import keys_and_repair
from .records.model import PHASES, STATUSES

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://clinicaltrials.gov/api/v2"
API_URL_VARIABLE = "SIMILAR_API_URL"
MAX_PAGE_SIZE = 1000


class FetchError(Exception):
    """A fetch the server refused or that kept failing after its retries."""


@dataclass
class FetchQuery:
    """What to fetch; each field maps onto one API v2 parameter."""

    condition: str = ""
    intervention: str = ""
    term: str = ""
    statuses: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    since: str = ""  # last update posted on or after this date (YYYY-MM-DD)
    max_records: int | None = None

    def params(self, page_size: int) -> dict[str, str]:
        """The query string: `filter.advanced` carries phase and date, which have no parameter of their own."""
        _check_values("status", self.statuses, STATUSES)
        _check_values("phase", self.phases, PHASES)
        params = {"format": "json", "countTotal": "true", "pageSize": str(page_size)}
        for name, value in (
            ("query.cond", self.condition),
            ("query.intr", self.intervention),
            ("query.term", self.term),
        ):
            if value:
                params[name] = value
        if self.statuses:
            params["filter.overallStatus"] = ",".join(self.statuses)
        advanced = []
        if self.phases:
            advanced.append("(" + " OR ".join(f"AREA[Phase]{phase}" for phase in self.phases) + ")")
        if self.since:
            advanced.append(f"AREA[LastUpdatePostDate]RANGE[{self.since},MAX]")
        if advanced:
            params["filter.advanced"] = " AND ".join(advanced)
        return params


@dataclass
class FetchSummary:
    path: Path
    written: int
    duplicates: int
    total: int | None
    pages: int


def api_url(explicit: str | None = None) -> str:
    return (explicit or os.environ.get(API_URL_VARIABLE) or DEFAULT_API_URL).rstrip("/")


def fetch(
    query: FetchQuery,
    out: str | Path,
    url: str | None = None,
    page_size: int = MAX_PAGE_SIZE,
    min_interval: float = 0.5,
    retries: int = 5,
    backoff: float = 1.0,
    progress: bool = False,
    client: httpx.Client | None = None,
) -> FetchSummary:
    """Append the studies matching `query` to the JSONL file `out`, resuming an interrupted fetch."""
    out = Path(out)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE, query.max_records or MAX_PAGE_SIZE))
    params = query.params(page_size)
    state_path = out.with_name(out.name + ".fetch.json")
    state = _load_state(state_path)
    token = state.get("next_page_token") if state.get("params") == params else None
    seen = keys_and_repair(out, _study_nct)
    written = duplicates = pages = 0
    total = state.get("total")
    if state.get("params") == params and state.get("done"):
        logger.info("%s: this fetch already completed", out)
        return FetchSummary(out, 0, 0, total, 0)
    owns_client = client is None
    client = client or httpx.Client(timeout=60, headers={"User-Agent": "similar (related clinical trials)"})
    bar = tqdm(
        total=query.max_records or total, initial=len(seen), desc="fetching", unit=" studies", disable=not progress
    )
    last_request = 0.0
    try:
        with open(out, "a", encoding="utf-8") as sink:
            while query.max_records is None or len(seen) < query.max_records:
                wait = min_interval - (time.monotonic() - last_request)
                if wait > 0:
                    time.sleep(wait)
                last_request = time.monotonic()
                page = _get_page(
                    client, api_url(url), {**params, **({"pageToken": token} if token else {})}, retries, backoff
                )
                pages += 1
                if "totalCount" in page:
                    total = page["totalCount"]
                    if bar.total is None:
                        bar.total = min(total, query.max_records or total)
                for study in page.get("studies", []):
                    nct = _nct_id(study)
                    if nct in seen:
                        duplicates += 1
                        continue
                    if query.max_records is not None and len(seen) >= query.max_records:
                        break
                    sink.write(json.dumps(study, ensure_ascii=False) + "\n")
                    seen.add(nct)
                    written += 1
                    bar.update(1)
                sink.flush()
                os.fsync(sink.fileno())
                token = page.get("nextPageToken")
                _save_state(
                    state_path, {"params": params, "next_page_token": token, "total": total, "done": token is None}
                )
                if token is None:
                    break
    finally:
        bar.close()
        if owns_client:
            client.close()
    return FetchSummary(out, written, duplicates, total, pages)


def _get_page(client: httpx.Client, url: str, params: dict[str, str], retries: int, backoff: float) -> dict:
    for attempt in range(retries + 1):
        try:
            response = client.get(f"{url}/studies", params=params)
        except httpx.TransportError as error:
            problem = f"cannot reach {url}: {error}"
        else:
            if response.status_code == 200:
                try:
                    return response.json()
                except ValueError:
                    problem = "the server answered with something that is not JSON"
            elif response.status_code == 429 or response.status_code >= 500:
                problem = f"HTTP {response.status_code} from {url}"
                retry_after = response.headers.get("Retry-After", "")
                if retry_after.isdigit() and attempt < retries:
                    time.sleep(min(float(retry_after), 60.0))
                    continue
            else:
                message = response.text.strip()[:500] or response.reason_phrase
                raise FetchError(f"the API refused the query (HTTP {response.status_code}): {message}")
        if attempt < retries:
            delay = backoff * 2**attempt
            logger.warning("%s; retrying in %.1f s", problem, delay)
            time.sleep(delay)
    raise FetchError(f"{problem}; gave up after {retries + 1} tries (run the same command again to resume)")


def _study_nct(study: dict) -> str:
    """The NCT id of an API v2 study object; KeyError or TypeError when it has none."""
    return study["protocolSection"]["identificationModule"]["nctId"]


def _nct_id(study: dict) -> str:
    try:
        return _study_nct(study)
    except (KeyError, TypeError):
        raise FetchError("the API returned a study without an NCT id") from None


def _load_state(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save_state(path: Path, state: dict) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(state), encoding="utf-8")
    os.replace(temporary, path)


def _check_values(name: str, values: list[str], valid: tuple[str, ...]) -> None:
    unknown = [v for v in values if v not in valid]
    if unknown:
        raise ValueError(f"unknown {name} {', '.join(unknown)}; valid: {', '.join(valid)}")
