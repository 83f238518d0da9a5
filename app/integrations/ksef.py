"""KSeF 2.0 adapter: a thin HTTP client for online invoice sessions, UPO and purchase invoices.

The contract is the official OpenAPI of KSeF 2.0 (``/v2``). Everything the client encrypts or
hashes lives in the small helpers at the top of this module, so the fake server in
``tests/fakes/ksef.py`` reads requests with exactly the same rules. No secret (KSeF token,
access or refresh token, symmetric key) is ever logged or shown in a ``repr``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

log = logging.getLogger(__name__)

#: API base URLs of the official environments (``servers`` of open-api.json, srodowiska.md)
KSEF_API_URLS = {
    "test": "https://api-test.ksef.mf.gov.pl/v2",
    "demo": "https://api-demo.ksef.mf.gov.pl/v2",
    "production": "https://api.ksef.mf.gov.pl/v2",
}
#: hosts of the KOD I verification links (kody-qr.md)
KSEF_QR_URLS = {
    "test": "https://qr-test.ksef.mf.gov.pl",
    "demo": "https://qr-demo.ksef.mf.gov.pl",
    "production": "https://qr.ksef.mf.gov.pl",
}
#: form code of FA(3) as listed in OpenOnlineSessionRequest.formCode
FA3_FORM_CODE = {"systemCode": "FA (3)", "schemaVersion": "1-0E", "value": "FA"}
SCHEMA_DIR = Path(__file__).resolve().parent / "ksef_schema"
FA3_SCHEMA_PATH = SCHEMA_DIR / "FA3_v1-0E.xsd"
UPO_SCHEMA_PATH = SCHEMA_DIR / "upo-v4-3.xsd"

USAGE_TOKEN = "KsefTokenEncryption"
USAGE_SYMMETRIC_KEY = "SymmetricKeyEncryption"
#: invoice status codes meaning "not final yet"; every code >= 400 is a rejection
INVOICE_PENDING = {100, 150}
SUBJECT_BUYER = "Subject2"
SUBJECT_SELLER = "Subject1"


class KsefError(Exception):
    """Any failure talking to KSeF; ``code``/``description`` carry the server's error when known."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None,
                 description: str = "", details: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.description = description
        self.details = details or []


class KsefUnavailable(KsefError):
    """KSeF cannot be reached: connection error, timeout or a 5xx answer."""


class KsefRateLimited(KsefError):
    """KSeF answered 429; retry after ``retry_after_seconds``."""

    def __init__(self, message: str, retry_after_seconds: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after_seconds = retry_after_seconds


class KsefAuthError(KsefError):
    """Authentication refused (401/403, failed token authentication, expired refresh token)."""


class KsefRejected(KsefError):
    """KSeF rejected the invoice (status code >= 400 in the session)."""

    def __init__(self, code: int, description: str, details: list[str] | None = None,
                 extensions: dict[str, Any] | None = None) -> None:
        super().__init__(f"KSeF rejected the invoice: {code} {description}", code=code,
                         description=description, details=details)
        self.extensions = extensions or {}


# ---------------------------------------------------------------------------------------------
# Hashes, encryption (the IV reading lives here and only here)
# ---------------------------------------------------------------------------------------------

def sha256_b64(data: bytes) -> str:
    """SHA-256 of ``data`` in standard Base64, as KSeF expects in invoiceHash and friends."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def file_metadata(data: bytes) -> tuple[str, int]:
    """(SHA-256 Base64, size in bytes) of a file, the pair KSeF checks for plain and encrypted files."""
    return sha256_b64(data), len(data)


def load_public_key(certificate_b64: str) -> RSAPublicKey:
    """RSA public key from a ``certificate`` field (X.509 DER in Base64)."""
    cert = x509.load_der_x509_certificate(base64.b64decode(certificate_b64))
    key = cert.public_key()
    if not isinstance(key, RSAPublicKey):
        raise KsefError("KSeF public key is not an RSA key")
    return key


def public_key_id(key: RSAPublicKey) -> str:
    """publicKeyId: SHA-256 of the DER SubjectPublicKeyInfo in Base64."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return sha256_b64(der)


def _oaep() -> asym_padding.OAEP:
    """RSA-OAEP with SHA-256 and MGF1(SHA-256)."""
    return asym_padding.OAEP(mgf=asym_padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def rsa_encrypt(key: RSAPublicKey, data: bytes) -> bytes:
    """Encrypt a short secret (token|timestampMs or the AES key) with RSA-OAEP SHA-256."""
    return key.encrypt(data, _oaep())


def rsa_decrypt(private_key: RSAPrivateKey, data: bytes) -> bytes:
    """Decrypt RSA-OAEP SHA-256 (the fake server's side)."""
    return private_key.decrypt(data, _oaep())


#: The IV reading. open-api.json, OpenOnlineSessionRequest.encryption.initializationVector:
#: "Wektor inicjalizujący (IV) o długości 16 bajtów, używany do szyfrowania symetrycznego" is sent
#: once when the session is opened, and SendInvoiceRequest.encryptedInvoiceContent is "Faktura
#: zaszyfrowana algorytmem AES-256-CBC z dopełnianiem PKCS#7 (kluczem przekazanym przy otwarciu
#: sesji)"; its example sizes (6480 -> 6496 bytes) leave no room for a 16-byte IV prefix. So the
#: ciphertext is sent WITHOUT the IV in front (sesja-interaktywna.md says "dołączanego jako prefiks
#: do szyfrogramu"; we follow the OpenAPI). Flip this one flag if KSeF ever requires the prefix.
IV_PREFIXED_TO_CIPHERTEXT = False


def aes_encrypt(plain: bytes, key: bytes, iv: bytes) -> bytes:
    """AES-256-CBC with PKCS#7 padding, in the IV reading of :data:`IV_PREFIXED_TO_CIPHERTEXT`."""
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    body = encryptor.update(padded) + encryptor.finalize()
    return iv + body if IV_PREFIXED_TO_CIPHERTEXT else body


def aes_decrypt(payload: bytes, key: bytes, iv: bytes) -> bytes:
    """Inverse of :func:`aes_encrypt` (same IV reading); raises ValueError on bad padding."""
    if IV_PREFIXED_TO_CIPHERTEXT:
        if payload[:16] != iv:
            raise ValueError("IV prefix does not match the session IV")
        payload = payload[16:]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(payload) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


# ---------------------------------------------------------------------------------------------
# KSeF numbers and KOD I links
# ---------------------------------------------------------------------------------------------

KSEF_NUMBER_RE = re.compile(
    r"^([1-9](\d[1-9]|[1-9]\d)\d{7})-(20[2-9]\d|2[1-9]\d{2}|[3-9]\d{3})(0[1-9]|1[0-2])"
    r"(0[1-9]|[12]\d|3[01])-[0-9A-F]{12}-[0-9A-F]{2}$"
)


def crc8(data: bytes) -> int:
    """CRC-8, polynomial 0x07, initial value 0x00 (faktury_numer-ksef.md)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def is_valid_ksef_number(number: str) -> bool:
    """True for a 35-character KSeF number whose format and CRC-8 check sum are right."""
    if not isinstance(number, str) or len(number) != 35 or not KSEF_NUMBER_RE.match(number):
        return False
    return f"{crc8(number[:32].encode('ascii')):02X}" == number[33:]


def make_ksef_number(nip: str, day: date, technical: str) -> str:
    """Build a KSeF number from the seller NIP, acceptance date and 12 hex characters."""
    data = f"{nip}-{day:%Y%m%d}-{technical.upper()}"
    return f"{data}-{crc8(data.encode('ascii')):02X}"


def kod_i_url_from_hash(environment: str, nip: str, issue_date: date, sha256_b64url: str) -> str:
    """KOD I link from the Base64URL SHA-256 of the invoice file."""
    return f"{KSEF_QR_URLS[environment]}/invoice/{nip}/{issue_date:%d-%m-%Y}/{sha256_b64url}"


def kod_i_url(environment: str, nip: str, issue_date: date, xml: bytes) -> str:
    """KOD I verification link for an invoice: seller NIP, issue date (P_1) and the XML file bytes."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(xml).digest()).decode("ascii").rstrip("=")
    return kod_i_url_from_hash(environment, nip, issue_date, digest)


def ksef_base_url(environment: str, override: str | None = None) -> str:
    """API base URL: the override (``KSEF_BASE_URL``, e.g. the local fake) or the environment's."""
    if override:
        return override.rstrip("/")
    try:
        return KSEF_API_URLS[environment]
    except KeyError:
        raise KsefError(f"unknown KSeF environment {environment!r}") from None


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------

@dataclass
class OnlineSession:
    """An open online session and the AES key/IV its invoices are encrypted with."""

    reference_number: str
    valid_until: str
    key: bytes = field(repr=False)
    iv: bytes = field(repr=False)


@dataclass
class InvoiceStatus:
    """Status of one invoice in a session (SessionInvoiceStatusResponse)."""

    reference_number: str
    code: int
    description: str
    details: list[str]
    ksef_number: str | None
    invoice_hash: str
    extensions: dict[str, Any]

    @property
    def pending(self) -> bool:
        """True while KSeF still processes the invoice."""
        return self.code in INVOICE_PENDING

    @property
    def accepted(self) -> bool:
        """True when KSeF accepted the invoice and gave it a KSeF number."""
        return self.code == 200


@dataclass
class SessionStatus:
    """Status of a session (SessionStatusResponse) with the UPO page reference numbers."""

    code: int
    description: str
    invoice_count: int
    successful_invoice_count: int
    failed_invoice_count: int
    upo_reference_numbers: list[str]


@dataclass
class InvoiceMetadataPage:
    """One page of POST /invoices/query/metadata."""

    invoices: list[dict[str, Any]]
    has_more: bool
    is_truncated: bool


def parse_time(value: str) -> datetime:
    """Parse an ISO 8601 date-time from KSeF (with offset, 'Z' or up to 7 fraction digits)."""
    value = value.replace("Z", "+00:00")
    value = re.sub(r"\.(\d{6})\d+", r".\1", value)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _error_fields(response: requests.Response) -> tuple[int | None, str, list[str]]:
    """(code, description, details) from ExceptionResponse, problem+json or the 429 body."""
    try:
        body = response.json()
    except ValueError:
        return None, response.text[:200], []
    if not isinstance(body, dict):
        return None, "", []
    exc = body.get("exception")
    if isinstance(exc, dict) and exc.get("exceptionDetailList"):
        first = exc["exceptionDetailList"][0]
        return first.get("exceptionCode"), first.get("exceptionDescription") or "", first.get("details") or []
    if isinstance(body.get("status"), dict):
        st = body["status"]
        return st.get("code"), st.get("description") or "", st.get("details") or []
    errors = body.get("errors") or []
    if errors and isinstance(errors[0], dict):
        return errors[0].get("code"), body.get("detail") or "", errors[0].get("details") or []
    return None, body.get("detail") or body.get("title") or "", []


# ---------------------------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------------------------

class KsefClient:
    """KSeF 2.0 client for one context (NIP) authenticated with a KSeF token; one per thread."""

    def __init__(self, base_url: str, nip: str, ksef_token: str, *, timeout: float = 30.0,
                 connect_timeout: float = 5.0, poll_interval: float = 0.5, poll_timeout: float = 60.0,
                 refresh_margin_seconds: float = 30.0, http: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.nip = nip
        self._ksef_token = ksef_token
        self.timeout = (connect_timeout, timeout)
        self.poll_interval = poll_interval
        self.poll_timeout = poll_timeout
        self.refresh_margin = timedelta(seconds=refresh_margin_seconds)
        self.http = http or requests.Session()
        self._certificates: list[dict[str, Any]] | None = None
        self._access_token: str | None = None
        self._access_valid_until: datetime | None = None
        self._refresh_token: str | None = None

    def __repr__(self) -> str:
        """Show the endpoint and NIP only, never a token."""
        return f"KsefClient({self.base_url!r}, nip={self.nip!r})"

    @classmethod
    def from_config(cls, config: Mapping[str, Any], nip: str, ksef_token: str, **kwargs: Any) -> KsefClient:
        """Client for ``KSEF_ENVIRONMENT`` (or ``KSEF_BASE_URL``) with ``KSEF_TIMEOUT`` seconds."""
        base = ksef_base_url(config.get("KSEF_ENVIRONMENT", "test"), config.get("KSEF_BASE_URL"))
        kwargs.setdefault("timeout", float(config.get("KSEF_TIMEOUT", 30)))
        return cls(base, nip, ksef_token, **kwargs)

    # -- transport ---------------------------------------------------------------------------
    def _request(self, method: str, path: str, *, bearer: str | None = None, json: Any = None,
                 params: Mapping[str, Any] | None = None, accept: str = "application/json",
                 extra_headers: Mapping[str, str] | None = None) -> requests.Response:
        """One HTTP call; maps transport failures and error statuses to typed errors."""
        headers = {"Accept": accept, **(extra_headers or {})}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        try:
            response = self.http.request(method, self.base_url + path, headers=headers, json=json,
                                         params=params, timeout=self.timeout, allow_redirects=False)
        except requests.Timeout as exc:
            log.warning("KSeF %s %s timed out", method, path)
            raise KsefUnavailable(f"KSeF timed out ({method} {path})") from exc
        except requests.RequestException as exc:
            log.warning("KSeF %s %s failed: %s", method, path, type(exc).__name__)
            raise KsefUnavailable(f"KSeF unreachable ({method} {path})") from exc
        log.info("KSeF %s %s -> %s", method, path, response.status_code)
        if response.status_code < 400:
            return response
        code, description, details = _error_fields(response)
        status = response.status_code
        message = f"KSeF {method} {path} answered {status}: {description}".rstrip(": ")
        if status == 429:
            try:
                retry_after = int(response.headers.get("Retry-After", "60"))
            except ValueError:
                retry_after = 60
            raise KsefRateLimited(message, retry_after, status=status, code=code,
                                  description=description, details=details)
        if status in (401, 403) or (status == 400 and path.startswith("/auth/")):
            raise KsefAuthError(message, status=status, code=code, description=description, details=details)
        if status >= 500:
            raise KsefUnavailable(message, status=status, code=code, description=description, details=details)
        raise KsefError(message, status=status, code=code, description=description, details=details)

    def _authed(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Call with the access token; refresh it when expired or refused once with 401."""
        self._ensure_access_token()
        try:
            return self._request(method, path, bearer=self._access_token, **kwargs)
        except KsefAuthError as exc:
            if exc.status != 401:
                raise
            self.refresh_access_token()
            return self._request(method, path, bearer=self._access_token, **kwargs)

    def _ensure_access_token(self) -> None:
        """Authenticate on first use; refresh the access token when it is (nearly) expired."""
        if self._access_token is None:
            self.authenticate()
        elif self._access_valid_until and datetime.now(timezone.utc) + self.refresh_margin >= self._access_valid_until:
            self.refresh_access_token()

    # -- public keys and authentication ----------------------------------------------------
    def public_key_certificates(self) -> list[dict[str, Any]]:
        """GET /security/public-key-certificates (PublicKeyCertificate list), cached per client."""
        if self._certificates is None:
            self._certificates = self._request("GET", "/security/public-key-certificates").json()
        return self._certificates

    def _public_key(self, usage: str) -> tuple[RSAPublicKey, str]:
        """(key, publicKeyId) of the currently valid certificate for ``usage``."""
        now = datetime.now(timezone.utc)
        for cert in self.public_key_certificates():
            if usage in cert.get("usage", []) and parse_time(cert["validFrom"]) <= now <= parse_time(cert["validTo"]):
                return load_public_key(cert["certificate"]), cert["publicKeyId"]
        raise KsefError(f"KSeF publishes no valid public key for {usage}")

    def authenticate(self) -> None:
        """Full KSeF token login: challenge, encrypted token|timestampMs, status polling, redeem."""
        challenge = self._request("POST", "/auth/challenge").json()
        key, key_id = self._public_key(USAGE_TOKEN)
        secret = f"{self._ksef_token}|{challenge['timestampMs']}".encode()
        init = self._request("POST", "/auth/ksef-token", json={
            "challenge": challenge["challenge"],
            "contextIdentifier": {"type": "Nip", "value": self.nip},
            "encryptedToken": base64.b64encode(rsa_encrypt(key, secret)).decode("ascii"),
            "publicKeyId": key_id,
        }).json()
        auth_token = init["authenticationToken"]["token"]
        reference = init["referenceNumber"]
        deadline = time.monotonic() + self.poll_timeout
        while True:
            status = self._request("GET", f"/auth/{reference}", bearer=auth_token).json()["status"]
            if status["code"] == 200:
                break
            if status["code"] != 100:
                detail = "; ".join(status.get("details") or [])
                raise KsefAuthError(f"KSeF authentication failed: {status['code']} {status['description']}"
                                    + (f" ({detail})" if detail else ""), code=status["code"],
                                    description=status["description"], details=status.get("details"))
            if time.monotonic() > deadline:
                raise KsefUnavailable("KSeF authentication still in progress after the poll timeout")
            time.sleep(self.poll_interval)
        tokens = self._request("POST", "/auth/token/redeem", bearer=auth_token).json()
        self._set_access(tokens["accessToken"])
        self._refresh_token = tokens["refreshToken"]["token"]
        log.info("KSeF authenticated for NIP %s", self.nip)

    def _set_access(self, info: Mapping[str, str]) -> None:
        """Remember an access token (TokenInfo) and its validUntil."""
        self._access_token = info["token"]
        self._access_valid_until = parse_time(info["validUntil"])

    def refresh_access_token(self) -> None:
        """POST /auth/token/refresh; a refused refresh token leads to a new full authentication."""
        if self._refresh_token is None:
            self.authenticate()
            return
        try:
            body = self._request("POST", "/auth/token/refresh", bearer=self._refresh_token).json()
        except KsefAuthError:
            self._refresh_token = None
            self.authenticate()
            return
        self._set_access(body["accessToken"])
        log.info("KSeF access token refreshed for NIP %s", self.nip)

    # -- online session ----------------------------------------------------------------------
    def open_online_session(self) -> OnlineSession:
        """POST /sessions/online for FA(3) with a fresh AES-256 key and IV."""
        key, iv = os.urandom(32), os.urandom(16)
        rsa_key, key_id = self._public_key(USAGE_SYMMETRIC_KEY)
        body = self._authed("POST", "/sessions/online", json={
            "formCode": FA3_FORM_CODE,
            "encryption": {
                "encryptedSymmetricKey": base64.b64encode(rsa_encrypt(rsa_key, key)).decode("ascii"),
                "initializationVector": base64.b64encode(iv).decode("ascii"),
                "publicKeyId": key_id,
            },
        }).json()
        return OnlineSession(body["referenceNumber"], body.get("validUntil", ""), key, iv)

    def send_invoice(self, session: OnlineSession, xml: bytes) -> str:
        """Encrypt and send one invoice XML (bytes as given); returns the invoice reference number."""
        encrypted = aes_encrypt(xml, session.key, session.iv)
        plain_hash, plain_size = file_metadata(xml)
        enc_hash, enc_size = file_metadata(encrypted)
        body = self._authed("POST", f"/sessions/online/{session.reference_number}/invoices", json={
            "invoiceHash": plain_hash,
            "invoiceSize": plain_size,
            "encryptedInvoiceHash": enc_hash,
            "encryptedInvoiceSize": enc_size,
            "encryptedInvoiceContent": base64.b64encode(encrypted).decode("ascii"),
            "offlineMode": False,
        }).json()
        return str(body["referenceNumber"])

    @staticmethod
    def _invoice_status(body: Mapping[str, Any]) -> InvoiceStatus:
        """InvoiceStatus from a SessionInvoiceStatusResponse."""
        st = body["status"]
        return InvoiceStatus(body["referenceNumber"], st["code"], st.get("description", ""),
                             st.get("details") or [], body.get("ksefNumber"), body.get("invoiceHash", ""),
                             st.get("extensions") or {})

    def invoice_status(self, session_reference: str, invoice_reference: str) -> InvoiceStatus:
        """GET /sessions/{ref}/invoices/{invoiceRef}: the status, with the KSeF number once accepted."""
        return self._invoice_status(
            self._authed("GET", f"/sessions/{session_reference}/invoices/{invoice_reference}").json())

    def wait_for_invoice(self, session_reference: str, invoice_reference: str) -> InvoiceStatus:
        """Poll until the invoice is processed; raises KsefRejected when KSeF refused it."""
        deadline = time.monotonic() + self.poll_timeout
        while True:
            status = self.invoice_status(session_reference, invoice_reference)
            if not status.pending:
                break
            if time.monotonic() > deadline:
                raise KsefUnavailable("KSeF still processes the invoice after the poll timeout")
            time.sleep(self.poll_interval)
        if not status.accepted:
            raise KsefRejected(status.code, status.description, status.details, status.extensions)
        if not status.ksef_number or not is_valid_ksef_number(status.ksef_number):
            raise KsefError(f"KSeF returned an invalid KSeF number {status.ksef_number!r}")
        return status

    def session_invoices(self, session_reference: str, page_size: int = 100) -> list[InvoiceStatus]:
        """GET /sessions/{ref}/invoices, all pages (continuation token): to reconcile by invoice hash."""
        result: list[InvoiceStatus] = []
        token: str | None = None
        while True:
            extra = {"x-continuation-token": token} if token else None
            body = self._authed("GET", f"/sessions/{session_reference}/invoices",
                                params={"pageSize": page_size}, extra_headers=extra).json()
            result.extend(self._invoice_status(item) for item in body.get("invoices", []))
            token = body.get("continuationToken")
            if not token:
                return result

    def close_session(self, session_reference: str) -> None:
        """POST /sessions/online/{ref}/close: starts the session UPO."""
        self._authed("POST", f"/sessions/online/{session_reference}/close")

    def session_status(self, session_reference: str) -> SessionStatus:
        """GET /sessions/{ref}: status, invoice counts and UPO page references."""
        body = self._authed("GET", f"/sessions/{session_reference}").json()
        pages = (body.get("upo") or {}).get("pages") or []
        return SessionStatus(body["status"]["code"], body["status"].get("description", ""),
                             body.get("invoiceCount", 0), body.get("successfulInvoiceCount", 0),
                             body.get("failedInvoiceCount", 0), [p["referenceNumber"] for p in pages])

    def download_session_upo(self, session_reference: str, upo_reference: str) -> bytes:
        """GET /sessions/{ref}/upo/{upoRef}: one UPO page as XML bytes."""
        return self._authed("GET", f"/sessions/{session_reference}/upo/{upo_reference}",
                            accept="application/xml").content

    def wait_for_session_upo(self, session_reference: str) -> list[bytes]:
        """Poll a closed session until its UPO is ready; returns the UPO pages."""
        deadline = time.monotonic() + self.poll_timeout
        while True:
            status = self.session_status(session_reference)
            if status.code == 200 and status.upo_reference_numbers:
                return [self.download_session_upo(session_reference, ref) for ref in status.upo_reference_numbers]
            if status.code >= 400:
                raise KsefError(f"KSeF session ended with {status.code} {status.description}",
                                code=status.code, description=status.description)
            if time.monotonic() > deadline:
                raise KsefUnavailable("KSeF session UPO not ready after the poll timeout")
            time.sleep(self.poll_interval)

    # -- purchase invoices ---------------------------------------------------------------------
    def query_invoice_metadata(self, date_from: datetime, date_to: datetime | None = None, *,
                               subject_type: str = SUBJECT_BUYER, date_type: str = "PermanentStorage",
                               page_offset: int = 0, page_size: int = 100) -> InvoiceMetadataPage:
        """POST /invoices/query/metadata; by default invoices where this NIP is the buyer."""
        date_range: dict[str, Any] = {"dateType": date_type, "from": date_from.isoformat()}
        if date_to is not None:
            date_range["to"] = date_to.isoformat()
        body = self._authed("POST", "/invoices/query/metadata",
                            params={"pageOffset": page_offset, "pageSize": page_size, "sortOrder": "Asc"},
                            json={"subjectType": subject_type, "dateRange": date_range}).json()
        return InvoiceMetadataPage(body.get("invoices", []), bool(body.get("hasMore")), bool(body.get("isTruncated")))

    def iter_purchase_invoices(self, date_from: datetime, date_to: datetime | None = None,
                               page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every purchase-invoice metadata record in the range, page after page."""
        offset = 0
        while True:
            page = self.query_invoice_metadata(date_from, date_to, page_offset=offset, page_size=page_size)
            yield from page.invoices
            if not page.has_more:
                return
            if page.is_truncated:
                last = page.invoices[-1]["permanentStorageDate"]
                date_from, offset = parse_time(last), 0
            else:
                offset += 1

    def download_invoice(self, ksef_number: str) -> bytes:
        """GET /invoices/ksef/{ksefNumber}: the invoice XML exactly as stored in KSeF."""
        if not is_valid_ksef_number(ksef_number):
            raise KsefError(f"invalid KSeF number {ksef_number!r}")
        return self._authed("GET", f"/invoices/ksef/{ksef_number}", accept="application/xml").content
