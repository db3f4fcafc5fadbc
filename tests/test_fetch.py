"""`similar fetch` against a local HTTP server that pages through the real API v2 study objects."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from similar import FetchError, FetchQuery, build_index, fetch
from similar.cli import main

from .conftest import DATA, TEST_MODEL


class FakeRegistry:
    """Serves `/api/v2/studies` pages of real studies; `failures` lists status codes to answer first."""

    def __init__(self, studies: list[dict]) -> None:
        self.studies = studies
        self.failures: list[int] = []
        self.requests: list[dict[str, str]] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                url = urlparse(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                registry.requests.append(params)
                if url.path != "/api/v2/studies":
                    return self.answer(404, b"not found", "text/plain")
                if registry.failures:
                    status = registry.failures.pop(0)
                    return self.answer(status, b"busy", "text/plain", {"Retry-After": "0"} if status == 429 else {})
                if "filter.phase" in params:
                    return self.answer(400, b"unknown parameter filter.phase", "text/plain")
                if params.get("filter.advanced", "").startswith("BAD"):
                    return self.answer(400, b"filter.advanced: invalid expression near BAD", "text/plain")
                size, start = int(params.get("pageSize", 10)), int(params.get("pageToken", 0))
                page = {"studies": registry.studies[start : start + size]}
                if start + size < len(registry.studies):
                    page["nextPageToken"] = str(start + size)
                if params.get("countTotal") == "true" and start == 0:
                    page["totalCount"] = len(registry.studies)
                self.answer(200, json.dumps(page).encode(), "application/json")

            def answer(self, status: int, body: bytes, kind: str, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v2"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture()
def registry(shared):
    studies = [json.loads(p.read_text()) for p in sorted((DATA / "api-v2").glob("NCT*.json"))]
    server = FakeRegistry(studies)
    yield server
    server.server.shutdown()


def nct_of(study: dict) -> str:
    return study["protocolSection"]["identificationModule"]["nctId"]


def ids_in(path) -> list[str]:
    return [nct_of(json.loads(line)) for line in path.open()]


def test_fetch_pages_through_everything_and_the_result_builds(registry, tmp_path):
    out = tmp_path / "trials.jsonl"
    summary = fetch(FetchQuery(condition="liver cirrhosis"), out, url=registry.url, page_size=5, min_interval=0)
    unique = {nct_of(s) for s in registry.studies}  # two of the fixtures are the same study
    assert (summary.written, summary.total, summary.pages) == (len(unique), len(registry.studies), 3)
    assert sorted(ids_in(out)) == sorted(unique)
    assert [r.get("pageToken") for r in registry.requests] == [None, "5", "10"]
    assert build_index([out], tmp_path / "index", model=TEST_MODEL).count == len(unique) - 2  # two have no text


def test_query_maps_onto_api_parameters(registry, tmp_path):
    query = FetchQuery(
        condition="liver cirrhosis",
        intervention="ursodiol",
        term="fibrosis",
        statuses=["RECRUITING", "COMPLETED"],
        phases=["PHASE2", "PHASE3"],
        since="2026-01-01",
    )
    fetch(query, tmp_path / "out.jsonl", url=registry.url, min_interval=0)
    sent = registry.requests[0]
    assert (
        sent["query.cond"] == "liver cirrhosis"
        and sent["query.intr"] == "ursodiol"
        and sent["query.term"] == "fibrosis"
    )
    assert sent["filter.overallStatus"] == "RECRUITING,COMPLETED"
    assert sent["filter.advanced"] == (
        "(AREA[Phase]PHASE2 OR AREA[Phase]PHASE3) AND AREA[LastUpdatePostDate]RANGE[2026-01-01,MAX]"
    )
    assert sent["countTotal"] == "true" and sent["pageSize"] == "1000"
    with pytest.raises(ValueError, match="unknown phase PHASE9; valid: EARLY_PHASE1"):
        FetchQuery(phases=["PHASE9"]).params(10)


def test_429_and_5xx_are_retried_with_backoff(registry, tmp_path):
    registry.failures = [429, 503, 502]
    summary = fetch(FetchQuery(), tmp_path / "out.jsonl", url=registry.url, min_interval=0, backoff=0.01)
    assert summary.written == len({nct_of(s) for s in registry.studies}) and len(registry.requests) == 4


def test_an_interrupted_fetch_resumes_without_duplicates(registry, tmp_path):
    out = tmp_path / "out.jsonl"
    unique = {nct_of(s) for s in registry.studies}
    assert fetch(FetchQuery(max_records=5), out, url=registry.url, page_size=5, min_interval=0).written == 5
    registry.failures = [500, 500]
    with pytest.raises(FetchError, match="gave up after 2 tries"):
        fetch(FetchQuery(), out, url=registry.url, page_size=5, min_interval=0, retries=1, backoff=0.01)
    with out.open("a") as handle:  # killed in the middle of writing a line
        handle.write('{"protocolSection": {"identif')
    summary = fetch(FetchQuery(), out, url=registry.url, page_size=5, min_interval=0)
    ids = ids_in(out)
    assert len(ids) == len(set(ids)) == len(unique)
    assert summary.written == len(unique) - 5 and summary.pages == 2  # resumed after page 1, not refetched
    assert registry.requests[-1]["pageToken"] == "10"
    again = fetch(FetchQuery(), out, url=registry.url, page_size=5, min_interval=0)
    assert again.written == 0 and again.pages == 0 and ids_in(out) == ids


def test_a_400_from_the_server_is_a_clear_cli_error(registry, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SIMILAR_API_URL", registry.url)
    code = main(["fetch", "--condition", "cirrhosis", "--status", "RECRUITING", "--out", str(tmp_path / "o.jsonl")])
    assert code == 0 and registry.requests[0]["filter.overallStatus"] == "RECRUITING"
    monkeypatch.setattr(FetchQuery, "params", lambda self, size: {"filter.advanced": "BAD((", "pageSize": "5"})
    code = main(["fetch", "--out", str(tmp_path / "bad.jsonl")])
    error = capsys.readouterr().err
    assert code == 2 and "HTTP 400" in error and "invalid expression near BAD" in error
