"""The manifest stamped beside every index: what built it, from what, and how to read it back."""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"


class IndexFileError(Exception):
    """An index folder that cannot be opened as asked: missing, corrupt, or built differently."""


@dataclass
class Manifest:
    model: str
    dimension: int
    precision: str
    fields: list[str]
    weights: dict[str, float]
    index_type: str
    count: int
    max_tokens: int | None = None
    lexical_weight: float = 0.0  # share of the TF-IDF cosine in the score; the rest is the dense score
    ann: dict = field(default_factory=dict)  # the FAISS index chosen and its measured recall against exact search
    sources: list[str] = field(default_factory=list)
    skipped: int = 0
    format_version: int = FORMAT_VERSION
    built_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    versions: dict[str, str] = field(default_factory=lambda: package_versions())
    files: dict[str, dict] = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)

    def write(self, folder: Path) -> None:
        path = folder / MANIFEST_NAME
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IndexFileError(f"{folder}: not an index (no {MANIFEST_NAME})") from None
        except (OSError, ValueError) as error:
            raise IndexFileError(f"{path}: unreadable manifest: {error}") from None
        version = data.get("format_version") if isinstance(data, dict) else None
        if version != FORMAT_VERSION:
            raise IndexFileError(
                f"{path}: index format version {version!r}, this similar reads version {FORMAT_VERSION}; "
                "rebuild the index with `similar build`"
            )
        try:
            return cls(**data)
        except TypeError as error:
            raise IndexFileError(f"{path}: malformed manifest: {error}") from None

    def stamp_files(self, folder: Path) -> None:
        """Record the size and SHA-256 of every data file, so corruption is caught on open."""
        self.files = {
            path.name: {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
            for path in sorted(folder.iterdir())
            if path.name != MANIFEST_NAME
        }

    def check_files(self, folder: Path, hashes: bool) -> None:
        """Refuse a folder whose files are missing, truncated or (with `hashes`) altered."""
        for name, expected in self.files.items():
            path = folder / name
            if not path.exists():
                raise IndexFileError(f"{path}: missing index file")
            if path.stat().st_size != expected["bytes"]:
                raise IndexFileError(
                    f"{path}: size {path.stat().st_size} bytes, manifest says {expected['bytes']}: "
                    "the index is truncated or corrupt; rebuild it"
                )
            if hashes and file_sha256(path) != expected["sha256"]:
                raise IndexFileError(f"{path}: checksum mismatch: the index is corrupt; rebuild it")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("similar", "faiss-cpu", "sentence-transformers", "torch", "numpy"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
