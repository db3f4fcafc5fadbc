"""Turn any mix of files, folders and archives into `Trial` records, detecting each format from its content.

Broken records become `Skipped` entries (file, record, reason) and reading goes on; a path that cannot
be read at all, or whose format is unknown, raises `SourceError`. Archives are read in memory: nothing
is ever extracted to disk.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Iterator

from .api_json import classic_studies, get, is_classic_response, is_v2_study, parse_classic_study, parse_v2_study
from .csv_export import is_csv_header, parse_csv_row
from .legacy_xml import parse_xml
from .model import RecordError, Trial, validate

logger = logging.getLogger(__name__)

MAX_MEMBER_BYTES = 64 * 1024 * 1024  # a larger archive member is refused (zip bombs)
MAX_JSON_DEPTH = 64


class SourceError(Exception):
    """A path that cannot be read as trial records at all."""


@dataclass(frozen=True)
class Skipped:
    """A record left out of a load, and why."""

    source: str
    record: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.record}: {self.reason}"


def read_records(paths: Iterable[str | Path]) -> Iterator[Trial | Skipped]:
    """Yield every record found under `paths`, or a `Skipped` for each one that is broken."""
    for path in map(Path, paths):
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            for file in files:
                yield from _read_file(file, inside_folder=True)
        elif path.is_file():
            yield from _read_file(path, inside_folder=False)
        else:
            raise SourceError(f"{path}: no such file or folder")


def _read_file(path: Path, inside_folder: bool) -> Iterator[Trial | Skipped]:
    if path.name.lower().endswith((".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")):
        yield from _stream_jsonl(path)
        return
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SourceError(f"{path}: cannot read: {error.strerror or error}") from None
    records = _read_bytes(str(path), path.name, data)
    if records is None:
        if inside_folder:  # a README or licence beside the records is not an error
            logger.info("%s: not a trial record format, ignored", path)
            return
        raise SourceError(f"{path}: unknown format (expected ClinicalTrials.gov XML, JSON, JSONL, CSV or zip)")
    yield from records


def _read_bytes(source: str, name: str, data: bytes) -> Iterator[Trial | Skipped] | None:
    """Dispatch on the content; None when it is no format we know."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            return iter([Skipped(source, name, f"corrupt gzip: {error}")])
        name = name.removesuffix(".gz")
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return _read_zip(source, data)
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"<":
        return iter([_parse(source, name, lambda: parse_xml(data))])
    if head in (b"{", b"["):
        return _read_json(source, name, data)
    if name.lower().endswith(".csv") or _looks_like_csv(data):
        return _read_csv(source, data)
    return None


def _parse(source: str, record: str, parser) -> Trial | Skipped:
    try:
        return validate(parser())
    except RecordError as error:
        return Skipped(source, record, str(error))
    except RecursionError:
        return Skipped(source, record, "nesting too deep")


def _read_zip(source: str, data: bytes) -> Iterator[Trial | Skipped]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        yield Skipped(source, "(archive)", f"corrupt zip: {error}")
        return
    for info in sorted(archive.infolist(), key=lambda i: i.filename):
        member = info.filename
        where = f"{source}:{member}"
        if member.startswith(("/", "\\")) or ".." in PurePosixPath(member.replace("\\", "/")).parts:
            yield Skipped(where, member, "unsafe path in archive, member ignored")
            continue
        if info.is_dir() or PurePosixPath(member).name.startswith("."):
            continue
        if info.file_size > MAX_MEMBER_BYTES:
            yield Skipped(where, member, f"member too large ({info.file_size} bytes)")
            continue
        try:
            content = archive.read(info)
        except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as error:
            yield Skipped(where, member, f"cannot read archive member: {error}")
            continue
        records = _read_bytes(where, PurePosixPath(member).name, content)
        if records is None:
            logger.info("%s: not a trial record format, ignored", where)
            continue
        yield from records


def _check_depth(value: Any, depth: int = 0) -> None:
    if depth > MAX_JSON_DEPTH:
        raise RecordError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, dict):
        for item in value.values():
            _check_depth(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_depth(item, depth + 1)


def _study_label(study: Any, index: int) -> str:
    nct = get(study, "protocolSection.identificationModule.nctId") or get(
        study, "ProtocolSection.IdentificationModule.NCTId"
    )
    return f"record {index} ({nct})" if isinstance(nct, str) else f"record {index}"


def _parse_study(source: str, label: str, study: Any) -> Trial | Skipped:
    def parse() -> Trial:
        _check_depth(study)
        if is_v2_study(study):
            return parse_v2_study(study)
        if isinstance(study, dict) and "ProtocolSection" in study:
            return parse_classic_study(study)
        raise RecordError("not a study object (no protocolSection)")

    return _parse(source, label, parse)


def _read_json(source: str, name: str, data: bytes) -> Iterator[Trial | Skipped]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        yield Skipped(source, name, f"not UTF-8: {error}")
        return
    try:
        document = json.loads(text)
    except RecursionError:
        yield Skipped(source, name, "nesting too deep")
        return
    except json.JSONDecodeError as error:
        if error.pos > 0 and text.lstrip().startswith("{"):  # JSON Lines: one study per line
            yield from _read_jsonl(source, text.splitlines())
        else:
            yield Skipped(source, name, f"malformed JSON: {error}")
        return
    if is_classic_response(document):
        studies = list(classic_studies(document))
    elif isinstance(document, dict) and isinstance(document.get("studies"), list):
        studies = document["studies"]
    elif isinstance(document, list):
        studies = document
    else:
        studies = [document]
    if len(studies) == 1:
        yield _parse_study(source, _study_label(studies[0], 1).replace("record 1", name), studies[0])
        return
    for index, study in enumerate(studies, 1):
        yield _parse_study(source, _study_label(study, index), study)


def _read_jsonl(source: str, lines: Iterable[str]) -> Iterator[Trial | Skipped]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            study = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as error:
            yield Skipped(source, f"line {number}", f"malformed JSON: {error}")
            continue
        yield _parse_study(source, _study_label(study, number).replace("record", "line"), study)


def _stream_jsonl(path: Path) -> Iterator[Trial | Skipped]:
    """Read a (gzipped) JSONL file line by line, so a registry-sized file never sits in memory whole."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as lines:
            yield from _read_jsonl(str(path), lines)
    except (OSError, EOFError) as error:
        raise SourceError(f"{path}: cannot read: {error}") from None


def _looks_like_csv(data: bytes) -> bool:
    first_line = data[:4096].split(b"\n", 1)[0].decode("utf-8", "replace")
    try:
        return is_csv_header(next(csv.reader([first_line]), None))
    except csv.Error:
        return False


def _read_csv(source: str, data: bytes) -> Iterator[Trial | Skipped]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        yield Skipped(source, "(file)", f"not UTF-8: {error}")
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not is_csv_header(reader.fieldnames):
        yield Skipped(source, "(header)", "not a ClinicalTrials.gov CSV export (no 'NCT Number' column)")
        return
    try:
        for number, row in enumerate(reader, 2):
            yield _parse(
                source, f"row {number} ({row.get('NCT Number') or 'no NCT id'})", lambda row=row: parse_csv_row(row)
            )
    except csv.Error as error:
        yield Skipped(source, f"line {reader.line_num}", f"malformed CSV: {error}")
