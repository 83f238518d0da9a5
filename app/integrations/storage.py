"""File storage adapter: a local folder by default; an S3 adapter implements the same interface.

Keys are generated here (company id, kind, random id), never derived from user file names.
"""

from __future__ import annotations

import abc
import os
import uuid
from pathlib import Path

from flask import current_app


class StorageError(Exception):
    """The storage could not read or write an object."""


class Storage(abc.ABC):
    """Where file bytes live; rows in the database keep only the key."""

    @abc.abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (overwrites)."""

    @abc.abstractmethod
    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``; StorageError when missing."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; no error when it is already gone."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """True when an object is stored under ``key``."""


def new_key(company_id: int, kind: str = "attachments") -> str:
    """A fresh random key under the company's prefix: ``<company_id>/<kind>/<xx>/<uuid>``."""
    token = uuid.uuid4().hex
    return f"{int(company_id)}/{kind}/{token[:2]}/{token}"


class LocalStorage(Storage):
    """Files under a root folder (``instance/files`` by default), one sub-folder per company."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        if not key or key.startswith(("/", "\\")) or "\\" in key or ".." in key.split("/"):
            raise StorageError(f"invalid storage key: {key!r}")
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise StorageError(f"invalid storage key: {key!r}")
        return path

    def put(self, key: str, data: bytes) -> None:
        """Write atomically (temporary file + rename)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)

    def get(self, key: str) -> bytes:
        """Read the whole file."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise StorageError(f"missing object: {key}") from None

    def delete(self, key: str) -> None:
        """Remove the file if present."""
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass

    def exists(self, key: str) -> bool:
        """True when the file exists."""
        return self._path(key).is_file()


def get_storage() -> Storage:
    """The configured storage (FILES_DIR, default ``<instance>/files``)."""
    root = current_app.config.get("FILES_DIR") or os.path.join(current_app.instance_path, "files")
    return LocalStorage(root)
