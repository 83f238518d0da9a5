"""PayU REST API v2.1 adapter: OAuth client credentials, orders, and the notification signature.

Our own small client on ``requests`` (every call with a connect and a read timeout). The client
secret travels only in the body of the OAuth POST form, the access token only in the
``Authorization`` header; neither is ever put in a URL, a log line or a ``repr``. Order creation
answers ``302 Found`` with a JSON body (``redirectUri`` to PayU's payment page): the redirect is
not followed, the JSON is read. The local fake in ``tests/fakes/payu.py`` checks signatures with
:func:`sign` and :func:`verify_signature` of this module, so both sides read them the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import requests

log = logging.getLogger(__name__)

#: base URLs of PayU's environments; any other value of PAYU_ENV is taken as a base URL (the fake)
PAYU_URLS = {
    "sandbox": "https://secure.snd.payu.com",
    "production": "https://secure.payu.com",
}
OAUTH_PATH = "/pl/standard/user/oauth/authorize"
ORDERS_PATH = "/api/v2_1/orders"
#: the payment method the buyer chose, as PayU's ``payMethods.payMethod`` hint: BLIK's page and the
#: card form are pay-by-link values; a fast transfer sends no hint, so PayU's page lists the banks
METHOD_HINTS: dict[str, dict[str, str] | None] = {
    "blik": {"type": "PBL", "value": "blik"},
    "pbl": None,
    "card": {"type": "PBL", "value": "c"},
}
#: the order statuses PayU notifies (a notification carries one of them)
STATUSES = ("NEW", "PENDING", "WAITING_FOR_CONFIRMATION", "COMPLETED", "CANCELED")
SIGNATURE_HASHES = {"SHA-256": hashlib.sha256, "SHA256": hashlib.sha256, "MD5": hashlib.md5}


class PayuError(Exception):
    """Any failure talking to PayU; ``status`` and ``code`` carry the answer when there was one."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class PayuUnavailable(PayuError):
    """PayU cannot be reached: connection error, timeout or a 5xx answer."""


@dataclass(frozen=True)
class PayuConfig:
    """Where and as whom the platform talks to PayU (from the environment)."""

    base_url: str
    pos_id: str
    client_id: str
    client_secret: str
    second_key: str
    timeout: float = 15.0

    def __repr__(self) -> str:
        return f"PayuConfig(base_url={self.base_url!r}, pos_id={self.pos_id!r}, client_id={self.client_id!r})"

    @property
    def complete(self) -> bool:
        """True when every credential is set (payments are offered only then)."""
        return bool(self.base_url and self.pos_id and self.client_id and self.client_secret and self.second_key)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> PayuConfig:
        """Read PAYU_ENV (sandbox | production | a base URL), PAYU_POS_ID, PAYU_CLIENT_ID/SECRET, PAYU_SECOND_KEY."""
        env = str(config.get("PAYU_ENV") or "sandbox").strip()
        base = PAYU_URLS.get(env, env).rstrip("/")
        return cls(
            base_url=base, pos_id=str(config.get("PAYU_POS_ID") or "").strip(),
            client_id=str(config.get("PAYU_CLIENT_ID") or "").strip(),
            client_secret=str(config.get("PAYU_CLIENT_SECRET") or "").strip(),
            second_key=str(config.get("PAYU_SECOND_KEY") or "").strip(),
            timeout=float(config.get("PAYU_TIMEOUT") or 15.0),
        )


@dataclass(frozen=True)
class CreatedOrder:
    """PayU's answer to order creation."""

    order_id: str
    redirect_uri: str
    ext_order_id: str


@dataclass(frozen=True)
class OrderInfo:
    """One order as PayU reports it (retrieve, or the ``order`` of a notification)."""

    order_id: str
    ext_order_id: str
    status: str
    total_amount: int
    currency: str

    @classmethod
    def from_json(cls, order: Mapping[str, Any]) -> OrderInfo:
        """Read PayU's order object; a missing or malformed field raises PayuError."""
        try:
            return cls(
                order_id=str(order["orderId"]), ext_order_id=str(order.get("extOrderId") or ""),
                status=str(order["status"]), total_amount=int(str(order["totalAmount"])),
                currency=str(order["currencyCode"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise PayuError(f"malformed PayU order: {type(err).__name__}") from err


def to_grosze(amount: Decimal) -> int:
    """An amount in PLN as PayU's integer in the smallest unit (grosze)."""
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------------------------------------
# Notification signature (OpenPayu-Signature)
# ---------------------------------------------------------------------------------------------

def parse_signature_header(header: str | None) -> dict[str, str]:
    """``sender=…;signature=…;algorithm=SHA-256;content=DOCUMENT`` as a dict (empty when absent)."""
    parts: dict[str, str] = {}
    for item in (header or "").split(";"):
        key, sep, value = item.partition("=")
        if sep:
            parts[key.strip().lower()] = value.strip()
    return parts


def sign(body: bytes, second_key: str, algorithm: str = "SHA-256") -> str:
    """The signature PayU puts in the header: hash(raw body bytes + second key), hex."""
    digest = SIGNATURE_HASHES[algorithm.upper()]
    return digest(body + second_key.encode("utf-8")).hexdigest()


def signature_header(body: bytes, second_key: str, sender: str, algorithm: str = "SHA-256") -> str:
    """A complete ``OpenPayu-Signature`` header for ``body`` (the fake's side)."""
    return f"sender={sender};signature={sign(body, second_key, algorithm)};algorithm={algorithm};content=DOCUMENT"


def verify_signature(body: bytes, header: str | None, second_key: str) -> bool:
    """True only for a header whose signature over the raw ``body`` and ``second_key`` is right.

    SHA-256 and MD5 (both documented by PayU) are accepted; an unknown algorithm, a missing
    signature or an empty key is refused. The comparison runs in constant time.
    """
    parts = parse_signature_header(header)
    given = parts.get("signature", "").lower()
    algorithm = (parts.get("algorithm") or "MD5").upper()
    if not given or not second_key or algorithm not in SIGNATURE_HASHES:
        return False
    expected = sign(body, second_key, algorithm)
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii", "replace"))


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------

_TOKENS: dict[tuple[str, str], tuple[str, float]] = {}
_TOKENS_LOCK = threading.Lock()


class PayuClient:
    """OAuth (client credentials, token cached until shortly before expiry), create and retrieve orders."""

    def __init__(self, config: PayuConfig, *, session: requests.Session | None = None,
                 connect_timeout: float = 5.0) -> None:
        self.config = config
        self.http = session or requests.Session()
        self.timeout = (connect_timeout, config.timeout)

    def __repr__(self) -> str:
        return f"PayuClient({self.config!r})"

    def _post_form(self, path: str, data: dict[str, str]) -> requests.Response:
        try:
            return self.http.post(self.config.base_url + path, data=data, timeout=self.timeout,
                                  allow_redirects=False)
        except requests.RequestException as err:
            raise PayuUnavailable(f"PayU unreachable: {type(err).__name__}") from err

    def access_token(self) -> str:
        """A valid OAuth access token: the cached one, or a new one from ``grant_type=client_credentials``."""
        key = (self.config.base_url, self.config.client_id)
        with _TOKENS_LOCK:
            cached = _TOKENS.get(key)
            if cached is not None and cached[1] > time.monotonic():
                return cached[0]
        resp = self._post_form(OAUTH_PATH, {
            "grant_type": "client_credentials", "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
        })
        if resp.status_code >= 500:
            raise PayuUnavailable("PayU OAuth failed", status=resp.status_code)
        if resp.status_code != 200:
            raise PayuError("PayU refused the client credentials", status=resp.status_code)
        try:
            body = resp.json()
            token = str(body["access_token"])
            expires_in = int(body.get("expires_in", 0))
        except (ValueError, KeyError, TypeError) as err:
            raise PayuError("malformed PayU OAuth answer", status=resp.status_code) from err
        with _TOKENS_LOCK:
            # keep a minute's margin so a token never expires between the check and the call
            _TOKENS[key] = (token, time.monotonic() + max(0, expires_in - 60))
        return token

    def forget_token(self) -> None:
        """Drop the cached token (after PayU answered 401)."""
        with _TOKENS_LOCK:
            _TOKENS.pop((self.config.base_url, self.config.client_id), None)

    def _authed(self, method: str, path: str, json: Any = None) -> requests.Response:
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.access_token()}"}
            try:
                resp = self.http.request(method, self.config.base_url + path, json=json, headers=headers,
                                         timeout=self.timeout, allow_redirects=False)
            except requests.RequestException as err:
                raise PayuUnavailable(f"PayU unreachable: {type(err).__name__}") from err
            if resp.status_code == 401 and attempt == 1:
                self.forget_token()
                continue
            if resp.status_code >= 500:
                raise PayuUnavailable("PayU answered with a server error", status=resp.status_code)
            return resp
        raise PayuError("PayU refused the access token", status=401)  # pragma: no cover - loop returns

    def create_order(self, *, ext_order_id: str, amount: Decimal, description: str, buyer_email: str,
                     notify_url: str, continue_url: str, customer_ip: str, method: str,
                     product_name: str, language: str = "pl") -> CreatedOrder:
        """POST /api/v2_1/orders in grosze; PayU answers 302 (or 201) with JSON naming ``redirectUri``."""
        grosze = to_grosze(amount)
        body: dict[str, Any] = {
            "notifyUrl": notify_url, "continueUrl": continue_url, "customerIp": customer_ip,
            "merchantPosId": self.config.pos_id, "description": description, "currencyCode": "PLN",
            "totalAmount": str(grosze), "extOrderId": ext_order_id,
            "buyer": {"email": buyer_email, "language": language},
            "products": [{"name": product_name, "unitPrice": str(grosze), "quantity": "1"}],
        }
        hint = METHOD_HINTS.get(method)
        if hint is not None:
            body["payMethods"] = {"payMethod": hint}
        resp = self._authed("POST", ORDERS_PATH, json=body)
        try:
            answer = resp.json()
        except ValueError as err:
            raise PayuError("PayU answered without JSON", status=resp.status_code) from err
        code = str((answer.get("status") or {}).get("statusCode") or "")
        if resp.status_code not in (200, 201, 302) or code != "SUCCESS":
            raise PayuError(f"PayU refused the order: {code or resp.status_code}", status=resp.status_code, code=code)
        try:
            return CreatedOrder(order_id=str(answer["orderId"]), redirect_uri=str(answer["redirectUri"]),
                                ext_order_id=str(answer.get("extOrderId") or ext_order_id))
        except KeyError as err:
            raise PayuError("PayU's order answer has no orderId or redirectUri", status=resp.status_code) from err

    def retrieve_order(self, order_id: str) -> OrderInfo:
        """GET /api/v2_1/orders/{orderId}: the order's status and amount as PayU has them."""
        resp = self._authed("GET", f"{ORDERS_PATH}/{requests.utils.quote(order_id, safe='')}")
        if resp.status_code != 200:
            raise PayuError("PayU does not know this order", status=resp.status_code)
        try:
            orders = resp.json()["orders"]
            return OrderInfo.from_json(orders[0])
        except (ValueError, KeyError, IndexError, TypeError) as err:
            raise PayuError("malformed PayU order answer", status=resp.status_code) from err
