"""File storage adapter: a local folder by default; an S3-compatible bucket implements the same interface.

Keys are generated here (company id, kind, random id), never derived from user file names.
boto3 is imported only when an S3 storage is built.
"""

from __future__ import annotations

import abc
import hashlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Optional

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

    #: where the objects go, for people (a folder, ``s3://bucket/prefix``)
    label: str = ""

    def put_file(self, key: str, path: Path) -> None:
        """Store a (possibly large) file from disk under ``key``."""
        self.put(key, Path(path).read_bytes())

    def checksum(self, key: str) -> tuple[int, str]:
        """Size and SHA-256 of the stored object, read back from the storage."""
        data = self.get(key)
        return len(data), hashlib.sha256(data).hexdigest()


def new_key(company_id: int, kind: str = "attachments") -> str:
    """A fresh random key under the company's prefix: ``<company_id>/<kind>/<xx>/<uuid>``."""
    token = uuid.uuid4().hex
    return f"{int(company_id)}/{kind}/{token[:2]}/{token}"


class LocalStorage(Storage):
    """Files under a root folder (``instance/files`` by default), one sub-folder per company."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self.label = str(self.root)

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

    def put_file(self, key: str, path: Path) -> None:
        """Copy a file in (temporary file + rename)."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)

    def checksum(self, key: str) -> tuple[int, str]:
        """Size and SHA-256 of the file, read in chunks."""
        path = self._path(key)
        if not path.is_file():
            raise StorageError(f"missing object: {key}")
        return path.stat().st_size, sha256_file(path)


class S3Storage(Storage):
    """Objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, ...) under a key prefix, through boto3."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: Optional[str] = None,
        access_key_id: Optional[str] = None,
        secret_access_key: Optional[str] = None,
        region: Optional[str] = None,
        timeout: int = 20,
    ) -> None:
        # imported on use: boto3 is an optional dependency (S3 storage only)
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.label = f"s3://{bucket}/{self.prefix}"
        config = Config(
            connect_timeout=timeout, read_timeout=timeout * 3, retries={"max_attempts": 2, "mode": "standard"},
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url or None, aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None, region_name=region or "us-east-1", config=config,
        )

    def _key(self, key: str) -> str:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise StorageError(f"invalid storage key: {key!r}")
        return self.prefix + key

    def _call(self, method: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError  # optional dependency, as above

        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if code in {"NoSuchKey", "404", "NotFound"}:
                raise StorageError(f"missing object: {kwargs.get('Key')}") from None
            raise StorageError(f"S3 {self.label}: {err}") from None
        except BotoCoreError as err:
            raise StorageError(f"S3 {self.label}: {err}") from None

    def put(self, key: str, data: bytes) -> None:
        """Upload the bytes."""
        self._call("put_object", Key=self._key(key), Body=data)

    def put_file(self, key: str, path: Path) -> None:
        """Upload a file (multipart for large files)."""
        from boto3.exceptions import Boto3Error  # optional dependency, as above
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.upload_file(str(path), self.bucket, self._key(key))
        except (Boto3Error, BotoCoreError, ClientError) as err:
            raise StorageError(f"S3 {self.label}: {err}") from None

    def get(self, key: str) -> bytes:
        """Download the whole object."""
        return self._call("get_object", Key=self._key(key))["Body"].read()

    def delete(self, key: str) -> None:
        """Delete the object (S3 does not complain when it is gone)."""
        self._call("delete_object", Key=self._key(key))

    def exists(self, key: str) -> bool:
        """True when the object exists."""
        try:
            self._call("head_object", Key=self._key(key))
        except StorageError as err:
            if str(err).startswith("missing object"):
                return False
            raise
        return True

    def checksum(self, key: str) -> tuple[int, str]:
        """Size and SHA-256 of the object, streamed back from the bucket."""
        from botocore.exceptions import BotoCoreError  # optional dependency, as above

        body = self._call("get_object", Key=self._key(key))["Body"]
        digest, size = hashlib.sha256(), 0
        try:
            for chunk in body.iter_chunks(1024 * 1024):
                digest.update(chunk)
                size += len(chunk)
        except BotoCoreError as err:
            raise StorageError(f"S3 {self.label}: {err}") from None
        return size, digest.hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file on disk, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def get_storage() -> Storage:
    """The configured storage (FILES_DIR, default ``<instance>/files``)."""
    root = current_app.config.get("FILES_DIR") or os.path.join(current_app.instance_path, "files")
    return LocalStorage(root)
