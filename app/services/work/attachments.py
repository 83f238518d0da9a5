"""Files ("Załączniki"): type checked from the bytes, stored through the storage adapter."""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.integrations.storage import get_storage, new_key
from app.models.binders import Attachment
from app.models.mixins import utcnow
from app.security.tenancy import tenant_scope
from app.services import DomainError, formats, trash, unit_of_work
from app.services.platform import plans
from app.services.work import binders

DEFAULT_MAX_BYTES = 10 * 1024 * 1024

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODF_TYPES = {
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
}
TEXT_EXTENSIONS = {"txt": "text/plain", "csv": "text/csv"}


def max_bytes() -> int:
    """The size limit of one file (ATTACHMENT_MAX_BYTES, 10 MB by default)."""
    return int(current_app.config.get("ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def _zip_mime(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                return None  # macro-enabled documents are refused
            if "mimetype" in names:
                declared = zf.read("mimetype")[:100].decode("ascii", "replace").strip()
                return declared if declared in ODF_TYPES else None
            if "[Content_Types].xml" in names:
                if any(n.startswith("word/") for n in names):
                    return DOCX
                if any(n.startswith("xl/") for n in names):
                    return XLSX
                if any(n.startswith("ppt/") for n in names):
                    return PPTX
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, NotImplementedError):
        return None
    return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    sample = data[:65536]
    for encoding in ("utf-8-sig", "cp1250"):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        bad = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\r\n\t\f")
        return bad == 0
    return False


def sniff_mime(data: bytes, filename: str = "") -> str | None:
    """The content type of an allowed file, from its bytes (magic numbers); None when not allowed.

    Allowed: PDF, PNG/JPEG/GIF/WebP images, zip-based office documents (docx, xlsx, pptx, odt,
    ods, odp) and plain text (.txt, .csv, recognised by the name and checked to be text).
    """
    head = data[:16]
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"PK\x03\x04"):
        return _zip_mime(data)
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext in TEXT_EXTENSIONS and _is_text(data):
        return TEXT_EXTENSIONS[ext]
    return None


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def safe_filename(filename: str | None) -> str:
    """The display name to keep: no control or path characters (they become "_"), Polish letters kept."""
    name = unicodedata.normalize("NFC", filename or "")
    name = _UNSAFE.sub("_", name).strip(" .")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 190] + dot + ext[:9]) if dot and len(ext) <= 9 else name[:200]
    return name or "plik"


def _owner_ref(owner: Any) -> tuple[str | None, int | None]:
    if owner is None:
        return None, None
    if isinstance(owner, tuple):
        kind, oid = owner
        return str(kind), int(oid)
    return owner.__tablename__, int(owner.id)


def _checked(data: bytes, filename: str) -> tuple[str, str]:
    """The safe display name and the content type of an upload; DomainError (field ``file``) otherwise."""
    if not data:
        raise DomainError(_l("Choose a file to upload."), "file")
    limit = max_bytes()
    if len(data) > limit:
        raise DomainError(
            _l("The file is too large (at most %(size)s).", size=formats.file_size(limit)), "file"
        )
    name = safe_filename(filename)
    mime = sniff_mime(data, name)
    if mime is None:
        raise DomainError(
            _l("This file type is not allowed. Upload a PDF, an image, an office document or a text file."),
            "file",
        )
    return name, mime


def store_attachment(
    company_id: int,
    data: bytes,
    filename: str,
    binder_id: int | None = None,
    owner: Any = None,
    user_id: int | None = None,
) -> Attachment:
    """Check and store one file for a company; in a binder and/or owned by a document.

    ``owner`` is an ORM object (its table name and id are kept) or an ``(owner_type, owner_id)``
    pair. Raises DomainError (field ``file``) for an empty, too large or not allowed file and for a
    binder of another company. Stored bytes whose row is not saved are removed again: the unit
    (``_save``) commits inside the ``try`` below, so a failed commit removes them too.
    """
    name, mime = _checked(data, filename)
    plans.check_storage(company_id, len(data))
    storage = get_storage()
    key = new_key(company_id)
    # the company's scope also outside a request (jobs, the command line): the row is stamped with it
    with tenant_scope(company_id):
        try:
            return _save(company_id, binder_id, data, name, mime, owner, user_id, key)
        except Exception:
            storage.delete(key)
            raise


@unit_of_work
def _save(
    company_id: int, binder_id: int | None, data: bytes, name: str, mime: str, owner: Any, user_id: int | None,
    key: str,
) -> Attachment:
    """The binder check, the bytes under ``key`` and the attachment row, as one unit."""
    if binder_id is not None and binders.get_binder(company_id, binder_id) is None:
        raise DomainError(_l("This binder does not exist."), "binder_id")
    owner_type, owner_id = _owner_ref(owner)
    get_storage().put(key, data)
    att = Attachment(
        binder_id=binder_id,
        owner_type=owner_type,
        owner_id=owner_id,
        filename=name,
        size=len(data),
        mime=mime,
        storage_key=key,
        uploaded_by_id=user_id,
    )
    db.session.add(att)
    db.session.flush()
    return att


def get_attachment(company_id: int, attachment_id: int) -> Attachment | None:
    """A live attachment of this company, or None (another company's id gives None)."""
    return db.session.execute(select(Attachment).where(Attachment.id == attachment_id)).scalar_one_or_none()


def read_attachment(attachment: Attachment) -> bytes:
    """The stored bytes of an attachment."""
    return get_storage().get(attachment.storage_key)


def binder_attachments(company_id: int, binder_id: int) -> list[Attachment]:
    """Live files of a binder, newest first."""
    return list(
        db.session.execute(
            select(Attachment)
            .where(Attachment.binder_id == binder_id)
            .order_by(Attachment.created_at.desc(), Attachment.id.desc())
        ).scalars()
    )


def owner_attachments(company_id: int, owner_type: str, owner_id: int) -> list[Attachment]:
    """Live files owned by one document (e.g. the PDFs of an offer), newest first."""
    return list(
        db.session.execute(
            select(Attachment)
            .where(Attachment.owner_type == owner_type, Attachment.owner_id == owner_id)
            .order_by(Attachment.created_at.desc(), Attachment.id.desc())
        ).scalars()
    )


@unit_of_work
def delete_attachment(company_id: int, attachment_id: int, user_id: int | None) -> str:
    """Move a file to the trash (the bytes stay until the purge); return the deletion id."""
    att = get_attachment(company_id, attachment_id)
    if att is None:
        raise DomainError(_l("This file does not exist."))
    return trash.soft_delete(att, user_id)


def purge_files(older_than_days: int, now: dt.datetime | None = None) -> int:
    """Remove from storage the bytes of attachments that the trash purge is about to delete."""
    limit = (now or utcnow()) - dt.timedelta(days=older_than_days)
    keys = list(
        db.session.execute(
            select(Attachment.storage_key)
            .where(Attachment.deleted_at.is_not(None), Attachment.deleted_at < limit)
            # every company's old files at once: a platform job, so no company filter on purpose
            .execution_options(include_deleted=True, all_tenants=True)
        ).scalars()
    )
    storage = get_storage()
    for key in keys:
        storage.delete(key)
    return len(keys)
