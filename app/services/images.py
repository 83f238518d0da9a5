"""Uploaded images (avatars, logos): type checked from the bytes, size limited, resized."""

from __future__ import annotations

import io

from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError

from app.services import DomainError, formats

ALLOWED_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}


def process_image(data: bytes, max_bytes: int, box: int, field: str = "image") -> tuple[bytes, str]:
    """Return the image re-encoded as PNG, fitted into ``box`` pixels, or raise DomainError."""
    if not data:
        raise DomainError(_l("Choose an image file."), field)
    if len(data) > max_bytes:
        raise DomainError(
            _l("The image is too large (at most %(size)s).", size=formats.file_size(max_bytes)),
            field,
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise DomainError(_l("The file is not an image (PNG, JPEG, GIF or WebP)."), field) from None
    if fmt not in ALLOWED_FORMATS:
        raise DomainError(_l("The file is not an image (PNG, JPEG, GIF or WebP)."), field)
    with Image.open(io.BytesIO(data)) as img:
        if img.width * img.height > 40_000_000:
            raise DomainError(_l("The image has too many pixels."), field)
        rgba = img.convert("RGBA")
        rgba.thumbnail((box, box))
        out = io.BytesIO()
        rgba.save(out, format="PNG", optimize=True)
    return out.getvalue(), "image/png"
