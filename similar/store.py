"""The SQLite store of an index's records: row number, NCT id, title, the full record and its field hashes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Iterable, Iterator

from .filters import FILTER_COLUMNS, Filters, filter_values
from .records import Trial
from .text import FIELDS

_SCHEMA = f"""
CREATE TABLE trials (
    row INTEGER PRIMARY KEY,
    nct_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    last_update_date TEXT NOT NULL,
    record TEXT NOT NULL,
    {", ".join(f"hash_{name} TEXT NOT NULL" for name in FIELDS)},
    {", ".join(f"{column} TEXT NOT NULL" for column in FILTER_COLUMNS)}
)
"""


class RecordStore:
    """Read access to `records.sqlite`; `write_store` creates one."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        # Read-only and immutable: readers never lock or alter a published index.
        if not self.path.exists():  # sqlite's own error would not say which file
            raise FileNotFoundError(f"{self.path}: no such file")
        self._db = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)

    def close(self) -> None:
        self._db.close()

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]

    def rows_of(self, nct_ids: Iterable[str]) -> dict[str, int]:
        """Row number of each NCT id that is in the store."""
        nct_ids = list(nct_ids)
        found: dict[str, int] = {}
        for start in range(0, len(nct_ids), 500):
            chunk = nct_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT nct_id, row FROM trials WHERE nct_id IN ({marks})"
            found.update(self._db.execute(query, chunk).fetchall())
        return found

    def titles(self, rows: Iterable[int]) -> dict[int, str]:
        rows = [int(r) for r in rows]
        marks = ",".join("?" * len(rows))
        return dict(self._db.execute(f"SELECT row, title FROM trials WHERE row IN ({marks})", rows).fetchall())

    def trial(self, row: int) -> Trial:
        (record,) = self._db.execute("SELECT record FROM trials WHERE row = ?", (int(row),)).fetchone()
        return Trial.from_dict(json.loads(record))

    def field_hashes(self) -> Iterator[tuple[int, str, dict[str, str]]]:
        """(row, NCT id, {field: text hash}) for every record, in row order."""
        columns = ", ".join(f"hash_{name}" for name in FIELDS)
        for row, nct_id, *hashes in self._db.execute(f"SELECT row, nct_id, {columns} FROM trials ORDER BY row"):
            yield row, nct_id, dict(zip(FIELDS, hashes, strict=True))

    def matching_rows(self, filters: Filters) -> list[int]:
        """Rows of the records that pass `filters`."""
        where, params = filters.sql()
        return [row for (row,) in self._db.execute(f"SELECT row FROM trials WHERE {where} ORDER BY row", params)]

    def last_updates(self) -> dict[str, str]:
        """NCT id -> last-update date of every record."""
        return dict(self._db.execute("SELECT nct_id, last_update_date FROM trials"))

    def nct_ids(self) -> list[str]:
        return [nct for (nct,) in self._db.execute("SELECT nct_id FROM trials ORDER BY row")]


def write_store(path: Path, trials: Iterable[Trial], hashes: Iterable[dict[str, str]]) -> None:
    """Write a new store at `path`; rows are numbered in the order given."""
    db = sqlite3.connect(path)
    try:
        db.execute(_SCHEMA)
        _insert(db, 0, trials, hashes)
        db.commit()
    finally:
        db.close()


def rewrite_store(path: Path, dropped_rows: list[int], incoming: list[Trial], hashes: list[dict[str, str]]) -> None:
    """Change a copy of a store: delete `dropped_rows`, renumber the rest densely in order, append `incoming`."""
    db = sqlite3.connect(path)
    try:
        db.execute("CREATE TEMP TABLE dropped (row INTEGER PRIMARY KEY)")
        db.executemany("INSERT INTO dropped VALUES (?)", [(r,) for r in dropped_rows])
        db.execute("DELETE FROM trials WHERE row IN (SELECT row FROM dropped)")
        # Through negative numbers, so the primary key never collides while rows move down.
        db.execute("UPDATE trials SET row = -1 - (row - (SELECT COUNT(*) FROM dropped WHERE dropped.row < trials.row))")
        db.execute("UPDATE trials SET row = -1 - row")
        (count,) = db.execute("SELECT COUNT(*) FROM trials").fetchone()
        _insert(db, count, incoming, hashes)
        db.commit()
        db.execute("VACUUM")
    finally:
        db.close()


def _insert(db: sqlite3.Connection, start: int, trials: Iterable[Trial], hashes: Iterable[dict[str, str]]) -> None:
    placeholders = ",".join("?" * (5 + len(FIELDS) + len(FILTER_COLUMNS)))
    db.executemany(
        f"INSERT INTO trials VALUES ({placeholders})",
        (
            (
                row,
                t.nct_id,
                t.title,
                t.last_update_date,
                json.dumps(t.to_dict()),
                *(h[f] for f in FIELDS),
                *filter_values(t),
            )
            for row, (t, h) in enumerate(zip(trials, hashes, strict=True), start)
        ),
    )
