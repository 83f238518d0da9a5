"""Test helpers: valid Polish identifiers, login, CSRF-aware posting."""

from __future__ import annotations

import itertools
import random
import re
from typing import Any

_counter = itertools.count(1)
STRONG_PASSWORD = "Zielony-Słoń-Tańczy-42!"


def make_nip(seed: int | None = None) -> str:
    """A NIP with a valid check digit (deterministic per seed)."""
    rnd = random.Random(seed if seed is not None else next(_counter) * 7919)
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    while True:
        digits = [rnd.randint(1, 9)] + [rnd.randint(0, 9) for _ in range(8)]
        check = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
        if check != 10:
            return "".join(map(str, digits)) + str(check)


def make_regon9(seed: int) -> str:
    """A 9-digit REGON with a valid check digit."""
    rnd = random.Random(seed)
    weights = (8, 9, 2, 3, 4, 5, 6, 7)
    digits = [rnd.randint(0, 9) for _ in range(8)]
    check = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10
    return "".join(map(str, digits)) + str(check)


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert m, "no CSRF token on the page"
    return m.group(1)


def login(client: Any, email: str, password: str = STRONG_PASSWORD) -> Any:
    """Sign in through the real login form."""
    return client.post("/login/", data={"username": email, "password": password}, follow_redirects=False)


def logout(client: Any) -> Any:
    """Sign out (POST)."""
    return client.post("/logout/")
