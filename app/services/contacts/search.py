"""The contact list and its search: normalised text, substring search, keyset cursors, capped counts.

The search text is parsed once per request into a ``SearchQuery``; the count, the page and the
export filters all take that object. Substring terms (3+ characters) run through pg_trgm GIN
indexes on PostgreSQL and the FTS5 trigram table ``contact_fts`` on SQLite (migration 0008);
shorter terms are "starts with" ranges on the (company_id, column) b-trees. The company and the
soft-delete filter come from the global tenancy hook, which adds them to every SELECT of a
contact, subqueries and UNION branches included.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import and_, column, func, literal_column, or_, select, table, text, tuple_, union_all
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models.contacts import Contact, contact_tag
from app.services import inputs

#: the list shows "over 10 000" instead of counting every row of a huge base
COUNT_CAP = 10_000
#: SQLite: from this many matches, walking the name index beats fetching and sorting all matches
WALK_FROM = 1000
#: SQLite: from this many substring matches, walking the name index with LIKE beats FTS + sort
FTS_WALK_FROM = 3000
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
SORTS = ("name", "-name")

_NON_WORD = re.compile(r"[^0-9a-z@]+")
_CONTACT_FTS = table("contact_fts", column("rowid"))
#: per database URL: whether the FTS5 trigram table of migration 0008 exists
_FTS_PRESENT: dict[str, bool] = {}


# --------------------------------------------------------------------------- normalisation

def normalize(value: str | None) -> str:
    """Lower-case, strip Polish (and other) diacritics and punctuation, collapse spaces."""
    raw = (value or "").replace("ł", "l").replace("Ł", "L")
    raw = unicodedata.normalize("NFKD", raw)
    raw = "".join(c for c in raw if not unicodedata.combining(c)).lower()
    return " ".join(_NON_WORD.sub(" ", raw).split())


# --------------------------------------------------------------------------- SQL building blocks

def _dialect() -> str:
    return db.session.get_bind().dialect.name


def has_fts() -> bool:
    """True when this SQLite database has the ``contact_fts`` trigram table (migration 0008)."""
    bind = db.session.get_bind()
    key = str(bind.url)
    if key not in _FTS_PRESENT:
        _FTS_PRESENT[key] = db.session.execute(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'contact_fts'")
        ).first() is not None
    return _FTS_PRESENT[key]


def _prefix(col: Any, prefix: str) -> Any:
    """Index-friendly "starts with": a range on the b-tree (binary order)."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(col >= prefix, col < upper)


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _starts(col: Any, value: str, pg: bool, walk: bool = False) -> Any:
    """"Starts with" as a b-tree range (PostgreSQL: plus the exact LIKE, whatever the collation).

    ``walk`` (SQLite, many matches): the same range on ``col || ''``, which no index serves, so the
    planner walks the (company_id, name_sort) index in page order and tests each row, instead of
    collecting every match of every column's index and sorting them all.
    """
    if pg:
        return and_(_prefix(col, value), col.like(f"{_like_escape(value)}%", escape="\\"))
    return _prefix(col.concat("") if walk else col, value)


def _contains(col: Any, value: str) -> Any:
    return col.like(f"%{_like_escape(value)}%", escape="\\")


def _fts_query(terms: tuple[tuple[Any, str], ...]) -> str:
    """One FTS5 MATCH query: columns searched for the same value share one column filter."""
    by_value: dict[str, list[str]] = {}
    for col, value in terms:
        by_value.setdefault(value, []).append(col.key)
    return " OR ".join(
        "{%s} : \"%s\"" % (" ".join(cols), value.replace('"', '""')) for value, cols in by_value.items()
    )


def _fts_op(query: str) -> Any:
    return literal_column("contact_fts").op("MATCH")(query)


# --------------------------------------------------------------------------- the parsed search text

@dataclass(frozen=True)
class SearchQuery:
    """The search text parsed once: which columns are searched, each as a prefix or a substring.

    ``prefixes``: (column, value) pairs searched with "starts with"; ``substrings``: (column,
    value) pairs searched anywhere in the value (only where an index serves it: PostgreSQL, or
    SQLite with the FTS5 table). ``pg`` and ``fts`` record the database the query was parsed for.
    """

    text: str
    prefixes: tuple[tuple[Any, str], ...]
    substrings: tuple[tuple[Any, str], ...]
    pg: bool
    fts: bool

    @property
    def prefix_only(self) -> bool:
        """True when every condition is a "starts with" range."""
        return not self.substrings

    @property
    def fts_query(self) -> str | None:
        """The FTS5 MATCH query of the substring terms (SQLite with the FTS5 table), else None."""
        if self.pg or not self.fts or not self.substrings:
            return None
        return _fts_query(self.substrings)

    def prefix_conds(self) -> list[Any]:
        """One "starts with" condition per entry of ``prefixes``, in the same order."""
        return [_starts(col, value, self.pg) for col, value in self.prefixes]

    def conds(self, dense: bool = False) -> list[Any]:
        """Conditions per searched column (OR-ed by ``clause``).

        ``dense`` (SQLite): the substring tests as LIKE '%v%' per row instead of the FTS5 table
        (same matches, cheaper while walking the name index over many matches).
        """
        out = self.prefix_conds()
        if self.substrings:
            query = None if dense else self.fts_query
            if query:
                out.append(Contact.id.in_(select(_CONTACT_FTS.c.rowid).where(_fts_op(query))))
            else:
                out += [_contains(col, value) for col, value in self.substrings]
        return out

    def clause(self, dense: bool = False) -> Any:
        """The WHERE clause of the search (never matches when nothing searchable was typed)."""
        conds = self.conds(dense)
        return or_(*conds) if conds else Contact.id.is_(None)


def parse_query(q: str | None) -> SearchQuery | None:
    """Parse the search text (name, e-mail, NIP, phone or city); None when it is empty.

    Names and cities are searched in their normalised columns, so both databases ignore case and
    Polish diacritics alike. Digits (2+) search the NIP and the phone number.
    """
    raw = (q or "").strip()
    if not raw:
        return None
    pg = _dialect() == "postgresql"
    fts = not pg and has_fts()
    substring = pg or fts
    prefixes: list[tuple[Any, str]] = []
    substrings: list[tuple[Any, str]] = []
    digits = re.sub(r"[\s\-().+]", "", raw)
    if digits.isdigit() and len(digits) >= 2:
        national = digits[2:] if digits.startswith("48") and len(digits) > 9 else digits.lstrip("0")
        if substring and len(digits) >= 3:
            substrings += [(Contact.nip, digits), (Contact.phone, national or digits)]
        else:
            prefixes += [(Contact.nip, digits), (Contact.phone, "+" + digits)]
            if national:
                prefixes.append((Contact.phone, "+48" + national))
    else:
        lower = raw.lower()
        norm = normalize(raw)
        columns = [(Contact.email, lower)] if "@" in lower else [
            (Contact.name_sort, norm), (Contact.city_norm, norm), (Contact.email, lower)]
        for col, value in columns:
            if not value:
                continue
            if substring and len(value) >= 3:
                substrings.append((col, value))
            else:
                prefixes.append((col, value))
    return SearchQuery(raw, tuple(prefixes), tuple(substrings), pg, fts)


def as_query(q: SearchQuery | str | None) -> SearchQuery | None:
    """A parsed query as it is, a search text parsed (callers that have only the text)."""
    return q if isinstance(q, SearchQuery) or q is None else parse_query(q)


def search_clause(q: SearchQuery | str | None, dense: bool = False) -> Any:
    """WHERE clause for a search by name, e-mail, NIP, phone or city (None for an empty query)."""
    query = as_query(q)
    return query.clause(dense) if query is not None else None


# --------------------------------------------------------------------------- pages and cursors

class _Keyed(Protocol):
    id: int
    name_sort: str


@dataclass
class ContactPage:
    """One page of a keyset-paginated contact list."""

    items: list[Contact]
    next_cursor: str | None
    prev_cursor: str | None
    total: int
    total_capped: bool

    @property
    def has_next(self) -> bool:
        """True when a next page exists."""
        return self.next_cursor is not None

    @property
    def has_prev(self) -> bool:
        """True when a previous page exists."""
        return self.prev_cursor is not None


def encode_cursor(contact: _Keyed) -> str:
    """An opaque page cursor: the (name_sort, id) of a row."""
    raw = f"{contact.id}:{contact.name_sort}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str | None) -> tuple[str, int] | None:
    """The (name_sort, id) of a cursor, or None for a missing or broken one."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        ident, name = raw.split(":", 1)
    except (ValueError, UnicodeDecodeError):
        return None
    number = inputs.to_id(ident)
    if number is None or len(name) > 500 or inputs.has_control_chars(name):
        return None
    return name, number


# --------------------------------------------------------------------------- filters, counts, pages

def contact_filters(company_id: int, base_id: int | None, q: SearchQuery | str | None, tag_id: int | None,
                    dense: bool = False) -> list[Any]:
    """WHERE conditions of the contact list: base, search text, tag (company and live rows: the hook).

    The export uses them too, so a downloaded file always holds what the list shows.
    """
    where: list[Any] = []
    if base_id is not None:
        where.append(Contact.base_id == base_id)
    clause = search_clause(q, dense=dense)
    if clause is not None:
        where.append(clause)
    if tag_id is not None:
        where.append(Contact.id.in_(select(contact_tag.c.contact_id).where(contact_tag.c.tag_id == tag_id)))
    return where


def count_contacts(company_id: int, base_id: int | None = None, q: SearchQuery | str | None = None,
                   tag_id: int | None = None, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many contacts match, counting at most ``cap`` + 1 rows; returns (n, capped)."""
    query = as_query(q)
    fts_query = query.fts_query if query is not None else None
    if query is not None and fts_query and not query.prefixes:
        # SQLite FTS5: stream the trigram matches joined to contact, stop at cap + 1 of this company
        inner = (
            select(Contact.id)
            .select_from(_CONTACT_FTS.join(Contact, Contact.id == _CONTACT_FTS.c.rowid))
            .where(_fts_op(fts_query), *contact_filters(company_id, base_id, None, tag_id))
            .limit(cap + 1).subquery()
        )
    else:
        inner = select(Contact.id).where(*contact_filters(company_id, base_id, query, tag_id)).limit(cap + 1).subquery()
    n = db.session.execute(select(func.count()).select_from(inner)).scalar_one()
    return (cap, True) if n > cap else (n, False)


def list_contacts(
    company_id: int,
    base_id: int | None = None,
    q: SearchQuery | str | None = None,
    tag_id: int | None = None,
    sort: str = "name",
    after: str | None = None,
    before: str | None = None,
    limit: int = PAGE_SIZE,
    with_count: bool = True,
) -> ContactPage:
    """One page of contacts ordered by (name_sort, id): keyset paging, no full COUNT."""
    query = as_query(q)
    limit = max(1, min(int(limit or PAGE_SIZE), MAX_PAGE_SIZE))
    desc = sort == "-name"
    total, capped = count_contacts(company_id, base_id, query, tag_id) if with_count else (0, True)
    pg = _dialect() == "postgresql"
    searching = query is not None
    prefix_only = query is not None and query.prefix_only
    prefix_conds = query.prefix_conds() if query is not None else []
    fts_query = query.fts_query if query is not None else None
    # SQLite, over COUNT_CAP substring matches: walking the name index with a LIKE per row finds a
    # page within a few thousand rows; the FTS5 table pays off when the matches are few
    dense = bool(fts_query) and not pg and with_count and total > FTS_WALK_FROM
    where = contact_filters(company_id, base_id, query, tag_id, dense=dense)
    # PostgreSQL, a search with at most COUNT_CAP matches: fetch them from the trigram indexes and
    # sort them (a few ms). Ordered by the bare column the planner would walk the whole
    # (company_id, [base_id,] name_sort, id) b-tree and filter, hundreds of ms when the matches
    # sit together in the alphabet ("restauracja ...", "witkowski"). `name_sort || ''` is the same
    # value (same order, same keyset) that no b-tree provides.
    sort_col: Any = Contact.name_sort
    if pg and searching and not capped:
        sort_col = Contact.name_sort.concat("")
    key = tuple_(Contact.name_sort, Contact.id)
    after_key, before_key = decode_cursor(after), decode_cursor(before)
    backwards = before_key is not None and after_key is None
    keyset: list[Any] = []
    if after_key is not None:
        keyset.append(key < tuple_(*after_key) if desc else key > tuple_(*after_key))
    elif before_key is not None:
        keyset.append(key > tuple_(*before_key) if desc else key < tuple_(*before_key))
    descending = desc != backwards
    order = (sort_col.desc(), Contact.id.desc()) if descending else (sort_col, Contact.id)
    if query is not None and prefix_only and len(prefix_conds) > 1 and (capped if pg else total > WALK_FROM):
        # Many matches of a 1-2 character prefix: one ordered b-tree range per column, each cut to
        # a page, merged (an OR would walk the name index from "a" to, say, "wo..." or collect and
        # sort every match). SQLite: a column other than the name with many matches of its own is
        # tested row by row while walking the name index (its matches do not follow name order).
        plain = contact_filters(company_id, base_id, None, tag_id) + keyset
        branches = []
        for cond, (col, value) in zip(prefix_conds, query.prefixes, strict=True):
            if not pg and col is not Contact.name_sort:
                inner = select(Contact.id).where(*plain, cond).limit(WALK_FROM + 1).subquery()
                if db.session.execute(select(func.count()).select_from(inner)).scalar_one() > WALK_FROM:
                    cond = _starts(col, value, pg, walk=True)
            branches.append(select(Contact.id).where(*plain, cond).order_by(*order).limit(limit + 1).subquery())
        merged = union_all(*(select(b.c.id) for b in branches)).subquery()
        where = [Contact.id.in_(select(merged.c.id))]
    else:
        where += keyset
    rows = list(
        db.session.execute(
            select(Contact)
            .where(*where)
            .order_by(*order)
            .limit(limit + 1)
            # base and owner are many-to-one: joined into this statement (no statement of their own)
            .options(selectinload(Contact.tags), joinedload(Contact.base), joinedload(Contact.owner))
        ).scalars()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    next_cursor = prev_cursor = None
    if rows:
        if backwards:
            next_cursor = encode_cursor(rows[-1])
            prev_cursor = encode_cursor(rows[0]) if more else None
        else:
            next_cursor = encode_cursor(rows[-1]) if more else None
            prev_cursor = encode_cursor(rows[0]) if after_key is not None else None
    if not with_count:
        total, capped = len(rows), False
    return ContactPage(rows, next_cursor, prev_cursor, total, capped)
