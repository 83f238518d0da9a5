"""Rules without HTTP: file type sniffing, file names, storage keys, deadlines, calendar ranges."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from app.integrations.storage import LocalStorage, StorageError, new_key
from app.models.tasks import Task
from app.services.dictionaries import clean_color
from app.services.work.attachments import DOCX, XLSX, safe_filename, sniff_mime
from app.services.work.tasks import DEFAULT_COLOR, month_grid, week_range


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, body in files.items():
            zf.writestr(name, body)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "mime"),
    [
        (b"%PDF-1.7\n...", "a.pdf", "application/pdf"),
        (b"%PDF-1.7\n...", "bez-rozszerzenia", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n....", "a.png", "image/png"),
        (b"\xff\xd8\xff\xe0....", "a.jpg", "image/jpeg"),
        (b"GIF89a....", "a.gif", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "a.webp", "image/webp"),
        (_zip({"[Content_Types].xml": "<x/>", "word/document.xml": "<x/>"}), "a.docx", DOCX),
        (_zip({"[Content_Types].xml": "<x/>", "xl/workbook.xml": "<x/>"}), "a.xlsx", XLSX),
        (_zip({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<x/>"}), "a.odt",
         "application/vnd.oasis.opendocument.text"),
        ("Zażółć gęślą jaźń\n".encode(), "notatka.txt", "text/plain"),
        ("a;b\n1;2\n".encode("cp1250"), "dane.csv", "text/csv"),
    ],
)
def test_allowed_types_are_recognised_from_bytes(data, name, mime):
    assert sniff_mime(data, name) == mime


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"MZ\x90\x00", "program.pdf"),
        (b"<svg/>", "a.svg"),
        (b"<html></html>", "a.html"),
        (b"plain text", "a.exe"),
        (_zip({"a.txt": "x"}), "a.zip"),
        (_zip({"[Content_Types].xml": "<x/>", "word/vbaProject.bin": "x"}), "a.docm"),
        (b"PK\x03\x04broken", "a.docx"),
        (b"abc\x00def", "a.txt"),
    ],
)
def test_other_files_are_refused(data, name):
    assert sniff_mime(data, name) is None


def test_safe_filename_keeps_polish_and_drops_path_tricks():
    assert safe_filename("Umowa żółć.pdf") == "Umowa żółć.pdf"
    assert "/" not in safe_filename("../../etc/passwd") and ".." not in safe_filename("../../etc/passwd").split("_")[0]
    assert safe_filename("a\x00b\r\n.txt") == "a_b_.txt"
    assert safe_filename("") == "plik"
    assert len(safe_filename("x" * 500 + ".pdf")) <= 200 and safe_filename("x" * 500 + ".pdf").endswith(".pdf")


def test_storage_keys_are_random_and_never_escape_the_root(tmp_path):
    key = new_key(42)
    assert key.startswith("42/attachments/") and key != new_key(42)
    store = LocalStorage(tmp_path)
    store.put(key, b"dane")
    assert store.get(key) == b"dane" and store.exists(key)
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)  # deleting twice is fine
    for bad in ("../x", "/etc/passwd", "1/../../x", "a\\b", ""):
        with pytest.raises(StorageError):
            store.put(bad, b"x")
    with pytest.raises(StorageError):
        store.get("1/missing")


def test_overdue_rule():
    now = dt.datetime(2026, 5, 10, 12, 0)
    task = Task(title="t", status="todo", due_date=dt.date(2026, 5, 10), due_time=dt.time(11, 0))
    assert task.is_overdue(now)
    task.due_time = None  # a date without time is due at the end of the day
    assert not task.is_overdue(now)
    task.due_date = dt.date(2026, 5, 9)
    assert task.is_overdue(now)
    task.status = "done"
    assert not task.is_overdue(now)
    assert not Task(title="t", status="todo").is_overdue(now)


def test_week_and_month_ranges():
    assert week_range(dt.date(2026, 5, 13)) == (dt.date(2026, 5, 11), dt.date(2026, 5, 17))
    assert week_range(dt.date(2026, 5, 11))[0] == dt.date(2026, 5, 11)
    grid = month_grid(2026, 2)
    assert grid[0][0].weekday() == 0 and grid[-1][-1].weekday() == 6
    days = [d for week in grid for d in week if d.month == 2]
    assert len(days) == 28


def test_colour_rule():
    from app.services import DomainError

    assert clean_color("#FF0000", DEFAULT_COLOR) == "#ff0000"
    assert clean_color("", DEFAULT_COLOR) == "#1e88e5"
    with pytest.raises(DomainError):
        clean_color("red", DEFAULT_COLOR)
