"""An index folder holds generations; the `CURRENT` file names the published one.

A build writes a whole new generation beside the old one and publishes it by atomically replacing
`CURRENT`, so a failed or killed build leaves the previous index exactly as it was, and readers
that opened the old generation keep answering from it. Writers take the folder's lock first, so two
builds or updates of one folder run one after the other.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

logger = logging.getLogger(__name__)

CURRENT = "CURRENT"
PREFIX = "gen-"
LOCK = ".lock"


def current_generation(root: Path) -> Path | None:
    """The published generation of the index folder `root`, or None if nothing was ever published."""
    try:
        name = (Path(root) / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not name.startswith(PREFIX) or "/" in name or not (Path(root) / name).is_dir():
        return None
    return Path(root) / name


@contextmanager
def writer_lock(root: Path, create: bool = True) -> Iterator[None]:
    """Hold the writer lock of the index folder `root` (waiting for another writer to finish), so that no
    writer removes another's staging generation or publishes over its changes. The kernel releases the
    lock of a writer that dies. With `create=False` a missing folder is left missing and nothing is locked."""
    root = Path(root)
    if not root.is_dir():
        if not create:
            yield
            return
        root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.warning("%s: another build or update is writing this index; waiting for it", root)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def new_generation(root: Path) -> Iterator[Path]:
    """Yield an empty folder to write a generation into; publish it only if the block succeeds."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    staging = root / f"{PREFIX}{stamp}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        yield staging
        _fsync_tree(staging)
        _publish(root, staging.name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _remove_stale(root, keep=staging.name)


def _publish(root: Path, name: str) -> None:
    pointer = root / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    with open(pointer, "w", encoding="utf-8") as handle:
        handle.write(name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(pointer, root / CURRENT)
    _fsync_dir(root)


def _remove_stale(root: Path, keep: str) -> None:
    """Remove older generations and leftovers of killed builds."""
    for path in root.iterdir():
        if path.name.startswith(PREFIX) and path.name != keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(f".{CURRENT}."):
            path.unlink(missing_ok=True)


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
