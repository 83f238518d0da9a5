"""Where the time of a page goes: Python around SQL, for one page kind, in-process.

    .venv/bin/python bench/profile_page.py bench/out/pages-sqlite-310000-50-20261128.db /contacts/ [--n 100]

Uses a database kept by ``bench/bench_pages.py --keep`` (and its ``.json`` next to it for the
owner's login). Signs in with the test client, warms the page up, then runs it ``n`` times: the
wall time per request, the part spent in the database (cursor execute to result fetched) and the
rest (Python: routing, security, forms, templates, ORM), and the functions with the most
cumulative time under cProfile.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_contacts import make_app  # noqa: E402


def main() -> None:
    """Profile one page kind on a kept benchmark database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", help="the SQLite file kept by bench_pages.py --keep, or a database URL")
    parser.add_argument("url", help="the page, e.g. /contacts/")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true", help="time only (cProfile roughly doubles Python time)")
    args = parser.parse_args()
    db_url = args.db if "://" in args.db else f"sqlite:///{Path(args.db).resolve()}"
    meta_path = Path(args.db).with_suffix(".json") if "://" not in args.db else None
    meta = json.loads(meta_path.read_text()) if meta_path else {}
    app = make_app(db_url)

    from sqlalchemy import event

    from app.extensions import db

    with app.app_context():
        engine = db.engine
    spent = {"sql": 0.0, "n": 0}
    started: list[float] = []

    def before(*_a: Any) -> None:
        started.append(time.perf_counter())

    per_statement: dict[str, float] = {}

    def after(_conn: Any, _cursor: Any, statement: str, *_a: Any) -> None:
        took = time.perf_counter() - started.pop()
        spent["sql"] += took
        spent["n"] += 1
        key = " ".join(statement.split())[:110]
        per_statement[key] = per_statement.get(key, 0.0) + took

    client = app.test_client()
    resp = client.post("/login/", data={"username": meta["email"], "password": meta["password"]})
    assert resp.status_code == 302, resp.status_code
    for _ in range(5):
        assert client.get(args.url).status_code == 200
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    profile = cProfile.Profile()
    t0 = time.perf_counter()
    if not args.no_profile:
        profile.enable()
    for _ in range(args.n):
        assert client.get(args.url).status_code == 200
    profile.disable()
    wall = (time.perf_counter() - t0) / args.n * 1000
    sql = spent["sql"] / args.n * 1000
    how = "without" if args.no_profile else "under"
    print(f"{args.url}: {wall:.1f} ms a request ({how} cProfile), SQL {sql:.1f} ms in {spent['n'] / args.n:.1f} "
          f"statements, Python {wall - sql:.1f} ms")
    for key, took in sorted(per_statement.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {took / args.n * 1000:6.2f} ms  {key}")
    if args.no_profile:
        return
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
