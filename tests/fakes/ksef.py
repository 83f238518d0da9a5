"""A local fake of KSeF 2.0 speaking the official protocol (open-api.json) over HTTP on 127.0.0.1.

It has its own RSA key pairs published as X.509 certificates, decrypts the KSeF token and the AES
key (RSA-OAEP SHA-256) and each invoice (AES-256-CBC, same IV reading as the client), checks hashes
and sizes, validates FA(3) against the official XSD, issues KSeF numbers with a valid CRC-8 and a
session UPO valid against upo-v4-3.xsd, and can be told to fail (401, 429, 5xx, timeout, crash
after accepting). Run it standalone: ``python -m tests.fakes.ksef --port 8099 --token NIP=TOKEN``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import functools
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from flask import Flask, Response, jsonify, request
from lxml import etree
from werkzeug.serving import make_server

from app.integrations import ksef as k

FA_NS = "http://crd.gov.pl/wzor/2025/06/25/13775/"
UPO_NS = "http://upo.schematy.mf.gov.pl/KSeF/v4-3"
PREFIX = "/v2"


def _now() -> datetime:
    """Current UTC time."""
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    """ISO 8601 with offset, as the API writes date-times."""
    return moment.isoformat(timespec="milliseconds")


def _reference(kind: str) -> str:
    """A 36-character reference number like 20250625-SO-2C3E6C8000-B675CF5D68-07."""
    h = uuid.uuid4().hex.upper()
    return f"{_now():%Y%m%d}-{kind}-{h[:10]}-{h[10:20]}-{h[20:22]}"


@functools.lru_cache(maxsize=4)
def _new_key_and_cert(common_name: str) -> tuple[rsa.RSAPrivateKey, bytes]:
    """An RSA-2048 key pair and a self-signed certificate (DER) for it, made once per process."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - timedelta(days=1)).not_valid_after(_now() + timedelta(days=365))
            .sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.DER)


@dataclass
class Failure:
    """A failure to inject into the next matching requests."""

    kind: str  # "status", "timeout" or "crash_after_accept"
    path: str  # a substring of the request path ("" = any)
    status: int = 503
    retry_after: int = 0
    sleep: float = 0.0
    remaining: int = 1


@dataclass
class StoredInvoice:
    """One invoice KSeF holds (sent through a session or seeded)."""

    reference_number: str
    session_reference: str
    ordinal: int
    invoice_hash: str
    invoicing_date: datetime
    xml: bytes = field(repr=False)
    code: int = 100
    description: str = "Faktura przyjęta do dalszego przetwarzania"
    details: list[str] = field(default_factory=list)
    extensions: dict[str, str] = field(default_factory=dict)
    ksef_number: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    polls_left: int = 0


class FakeKsef:
    """State and WSGI app of the fake; tests drive it through its attributes and methods."""

    def __init__(self, tokens: dict[str, set[str]] | None = None, *, schema_path: Path = k.FA3_SCHEMA_PATH,
                 access_token_seconds: float = 900, processing_polls: int = 1) -> None:
        self.tokens = tokens or {}
        self.access_token_seconds = access_token_seconds
        self.processing_polls = processing_polls
        self.schema = etree.XMLSchema(etree.parse(str(schema_path)))
        self.token_key, token_der = _new_key_and_cert("Ministerstwo Finansów (fake) KsefTokenEncryption")
        self.symmetric_key, sym_der = _new_key_and_cert("Ministerstwo Finansów (fake) SymmetricKeyEncryption")
        self.certificates = [self._cert_entry(token_der, k.USAGE_TOKEN), self._cert_entry(sym_der, k.USAGE_SYMMETRIC_KEY)]
        self.lock = threading.RLock()
        self.failures: list[Failure] = []
        self.challenges: dict[str, int] = {}
        self.auth_ops: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, tuple[str, datetime]] = {}
        self.refresh_tokens: dict[str, tuple[str, datetime]] = {}
        self.refresh_count = 0
        self.sessions: dict[str, dict[str, Any]] = {}
        self.invoices: list[StoredInvoice] = []
        self.app = self._build_app()

    @staticmethod
    def _cert_entry(der: bytes, usage: str) -> dict[str, Any]:
        """PublicKeyCertificate JSON for a DER certificate."""
        cert = x509.load_der_x509_certificate(der)
        key = cert.public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        return {"certificate": base64.b64encode(der).decode(), "certificateId": k.sha256_b64(der),
                "publicKeyId": k.public_key_id(key), "validFrom": _iso(cert.not_valid_before_utc),
                "validTo": _iso(cert.not_valid_after_utc), "usage": [usage]}

    # -- test controls -------------------------------------------------------------------------
    def fail(self, kind: str = "status", path: str = "", *, status: int = 503, retry_after: int = 0,
             sleep: float = 0.0, times: int = 1) -> None:
        """Make the next ``times`` requests whose path contains ``path`` fail in the given way."""
        with self.lock:
            self.failures.append(Failure(kind, path, status, retry_after, sleep, times))

    def expire_access_tokens(self) -> None:
        """Invalidate every access token at once (the refresh tokens stay valid)."""
        with self.lock:
            self.access_tokens.clear()

    def accepted_invoices(self, nip: str) -> list[dict[str, str]]:
        """Invoices accepted for a seller NIP: hash, KSeF number and references (for reconciliation)."""
        with self.lock:
            return [{"invoiceHash": i.invoice_hash, "ksefNumber": i.ksef_number or "",
                     "referenceNumber": i.reference_number, "sessionReferenceNumber": i.session_reference}
                    for i in self.invoices if i.code == 200 and i.meta.get("seller_nip") == nip]

    def seed_invoice(self, xml: bytes, when: datetime | None = None) -> str:
        """Store an invoice as accepted from its seller (e.g. a purchase invoice); returns its KSeF number."""
        moment = when or _now()
        with self.lock:
            inv = StoredInvoice(_reference("EE"), _reference("SO"), 1, k.sha256_b64(xml), moment, xml)
            self._process(inv, seller_nip=None, now=moment)
            if inv.code != 200:
                raise ValueError(f"seeded invoice refused: {inv.code} {inv.details}")
            self.invoices.append(inv)
            return inv.ksef_number or ""

    # -- error bodies --------------------------------------------------------------------------
    @staticmethod
    def _exception(code: int, description: str, *details: str, status: int = 400) -> Response:
        """ExceptionResponse, the API's default error body."""
        body = {"exception": {"exceptionDetailList": [{"exceptionCode": code, "exceptionDescription": description,
                                                       "details": list(details)}],
                              "serviceCode": uuid.uuid4().hex, "serviceCtx": "srvFAKE", "serviceName": "fake",
                              "timestamp": _iso(_now())}}
        response = jsonify(body)
        response.status_code = status
        return response

    @staticmethod
    def _problem(status: int, title: str, detail: str) -> Response:
        """problem+json for 401/403/5xx."""
        response = jsonify({"title": title, "status": status, "detail": detail, "instance": request.path,
                            "traceId": uuid.uuid4().hex, "timestamp": _iso(_now())})
        response.status_code = status
        response.content_type = "application/problem+json"
        return response

    def _injected(self) -> Failure | None:
        """Take the first failure matching this request, if any."""
        with self.lock:
            for failure in self.failures:
                if failure.path in request.path:
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self.failures.remove(failure)
                    return failure
        return None

    def _bearer(self) -> str:
        """The bearer token of the request ('' when absent)."""
        header = request.headers.get("Authorization", "")
        return header[7:] if header.startswith("Bearer ") else ""

    def _context_nip(self) -> str | None:
        """The NIP of a valid access token, or None."""
        entry = self.access_tokens.get(self._bearer())
        if entry and entry[1] > _now():
            return entry[0]
        return None

    # -- the app ---------------------------------------------------------------------------------
    def _build_app(self) -> Flask:
        """Flask app with the subset of KSeF endpoints the client uses."""
        app = Flask("fake_ksef")
        fake = self

        @app.before_request
        def inject() -> Response | None:
            failure = fake._injected()
            if failure is None:
                return None
            if failure.kind == "timeout":
                time.sleep(failure.sleep)
                return None
            if failure.kind == "crash_after_accept":
                request.environ["fake.crash_after_accept"] = True
                return None
            if failure.status == 429:
                response = jsonify({"status": {"code": 429, "description": "Too Many Requests", "details": [
                    f"Przekroczono limit żądań. Spróbuj ponownie po {failure.retry_after} sekundach."]}})
                response.status_code = 429
                response.headers["Retry-After"] = str(failure.retry_after)
                return response
            if failure.status == 401:
                return fake._problem(401, "Unauthorized", "Wymagane jest uwierzytelnienie.")
            return fake._problem(failure.status, "Service Unavailable", "Usługa chwilowo niedostępna.")

        @app.get(f"{PREFIX}/security/public-key-certificates")
        def certificates() -> Response:
            return jsonify(fake.certificates)

        @app.post(f"{PREFIX}/auth/challenge")
        def challenge() -> Response:
            moment = _now()
            ref = _reference("CR")
            with fake.lock:
                fake.challenges[ref] = int(moment.timestamp() * 1000)
            return jsonify({"challenge": ref, "timestamp": _iso(moment), "timestampMs": fake.challenges[ref],
                            "clientIp": request.remote_addr})

        @app.post(f"{PREFIX}/auth/ksef-token")
        def ksef_token() -> Response:
            return fake._start_auth(request.get_json(silent=True) or {})

        @app.get(f"{PREFIX}/auth/<ref>")
        def auth_status(ref: str) -> Response:
            op = fake.auth_ops.get(ref)
            if op is None or op["auth_token"] != fake._bearer():
                return fake._problem(401, "Unauthorized", "Wymagane jest uwierzytelnienie.")
            with fake.lock:
                code, description, details = op["result"] if op["polls_left"] <= 0 else (
                    100, "Uwierzytelnianie w toku", [])
                op["polls_left"] -= 1
                op["code"] = code
            status: dict[str, Any] = {"code": code, "description": description}
            if details:
                status["details"] = details
            return jsonify({"startDate": _iso(op["start"]), "authenticationMethod": "Token",
                            "authenticationMethodInfo": {"category": "Token", "code": "token",
                                                         "displayName": "Token KSeF"},
                            "status": status})

        @app.post(f"{PREFIX}/auth/token/redeem")
        def redeem() -> Response:
            op = next((o for o in fake.auth_ops.values() if o["auth_token"] == fake._bearer()), None)
            if op is None:
                return fake._problem(401, "Unauthorized", "Wymagane jest uwierzytelnienie.")
            with fake.lock:
                if op.get("code") != 200 or op["redeemed"]:
                    return fake._exception(21301, "Brak autoryzacji.", "Tokeny zostały już pobrane lub "
                                           "status uwierzytelniania nie pozwala na pobranie tokenów.")
                op["redeemed"] = True
                refresh = uuid.uuid4().hex + uuid.uuid4().hex
                refresh_until = _now() + timedelta(days=7)
                fake.refresh_tokens[refresh] = (op["nip"], refresh_until)
                return jsonify({"accessToken": fake._issue_access(op["nip"]),
                                "refreshToken": {"token": refresh, "validUntil": _iso(refresh_until)}})

        @app.post(f"{PREFIX}/auth/token/refresh")
        def refresh() -> Response:
            entry = fake.refresh_tokens.get(fake._bearer())
            if entry is None or entry[1] <= _now():
                return fake._problem(401, "Unauthorized", "Nieprawidłowy lub wygasły token odświeżający.")
            with fake.lock:
                fake.refresh_count += 1
                return jsonify({"accessToken": fake._issue_access(entry[0])})

        @app.post(f"{PREFIX}/sessions/online")
        def open_session() -> Response:
            nip = fake._context_nip()
            if nip is None:
                return fake._problem(401, "Unauthorized", "Wymagane jest uwierzytelnienie.")
            return fake._open_session(nip, request.get_json(silent=True) or {})

        @app.post(f"{PREFIX}/sessions/online/<ref>/invoices")
        def send_invoice(ref: str) -> Response:
            nip = fake._context_nip()
            if nip is None:
                return fake._problem(401, "Unauthorized", "Wymagane jest uwierzytelnienie.")
            return fake._send_invoice(nip, ref, request.get_json(silent=True) or {})

        @app.post(f"{PREFIX}/sessions/online/<ref>/close")
        def close_session(ref: str) -> Response:
            nip = fake._context_nip()
            if nip is None:
                return fake._problem(401, "Unauthorized", "Wymagane jest uwierzytelnienie.")
            session = fake.sessions.get(ref)
            if session is None or session["nip"] != nip:
                return fake._exception(21173, "Brak sesji o wskazanym numerze referencyjnym.")
            if session["code"] != 100:
                return fake._exception(21180, "Status sesji nie pozwala na wykonanie operacji.",
                                       f"Status sesji {session['code']} uniemożliwia jej zamknięcie.")
            with fake.lock:
                session["code"] = 170
            return Response(status=204)

        @app.get(f"{PREFIX}/sessions/<ref>")
        def session_status(ref: str) -> Response:
            nip = fake._context_nip()
            if nip is None:
                return fake._problem(401, "Unauthorized", "Wymagane jest uwierzytelnienie.")
            session = fake.sessions.get(ref)
            if session is None or session["nip"] != nip:
                return fake._exception(21173, "Brak sesji o wskazanym numerze referencyjnym.")
            return jsonify(fake._session_status(ref, session))

        @app.get(f"{PREFIX}/sessions/<ref>/invoices")
        def session_invoices(ref: str) -> Response:
            nip = fake._context_nip()
            if nip is None:
                return fake._problem(401, "Unauthorized", "Wymagane jest uwierzytelnienie.")
            session = fake.sessions.get(ref)
            if session is None or session["nip"] != nip:
                return fake._exception(21173, "Brak sesji o wskazanym numerze referencyjnym.")
            size = int(request.args.get("pageSize", 10))
            token = request.headers.get("x-continuation-token")
            start = int(base64.b64decode(token)) if token else 0
            items = [i for i in fake.invoices if i.session_reference == ref]
            body: dict[str, Any] = {"invoices": [fake._invoice_json(i) for i in items[start:start + size]]}
            if start + size < len(items):
                body["continuationToken"] = base64.b64encode(str(start + size).encode()).decode()
            return jsonify(body)

        @app.get(f"{PREFIX}/sessions/<ref>/invoices/<iref>")
        def invoice_status(ref: str, iref: str) -> Response:
            nip = fake._context_nip()
            if nip is None:
                return fake._problem(401, "Unauthorized", "Wymagane jest uwierzytelnienie.")
            inv = next((i for i in fake.invoices if i.reference_number == iref and i.session_reference == ref), None)
            if inv is None or fake.sessions.get(ref, {}).get("nip") != nip:
                return fake._exception(21405, "Błąd walidacji danych wejściowych.", "Nie znaleziono faktury.")
            with fake.lock:
                pending = inv.polls_left > 0
                inv.polls_left -= 1
            if pending:
                return jsonify(fake._invoice_json(inv, pending=True))
            return jsonify(fake._invoice_json(inv))

        @app.get(f"{PREFIX}/sessions/<ref>/upo/<upo_ref>")
        def session_upo(ref: str, upo_ref: str) -> Response:
            nip = fake._context_nip()
            if nip is None:
                return fake._problem(401, "Unauthorized", "Wymagane jest uwierzytelnienie.")
            session = fake.sessions.get(ref)
            if session is None or session["nip"] != nip:
                return fake._exception(21173, "Brak sesji o wskazanym numerze referencyjnym.")
            if session.get("upo_ref") != upo_ref:
                return fake._exception(21178, "Nie znaleziono UPO dla podanych kryteriów.")
            return Response(session["upo"], content_type="application/xml")

        @app.post(f"{PREFIX}/invoices/query/metadata")
        def query_metadata() -> Response:
            nip = fake._context_nip()
            if nip is None:
                return fake._problem(401, "Unauthorized", "Wymagane jest uwierzytelnienie.")
            return fake._query_metadata(nip, request.get_json(silent=True) or {})

        @app.get(f"{PREFIX}/invoices/ksef/<number>")
        def download(number: str) -> Response:
            nip = fake._context_nip()
            if nip is None:
                return fake._problem(401, "Unauthorized", "Wymagane jest uwierzytelnienie.")
            inv = next((i for i in fake.invoices if i.ksef_number == number
                        and nip in (i.meta.get("seller_nip"), i.meta.get("buyer_nip"))), None)
            if inv is None:
                return fake._exception(21164, "Faktura o podanym identyfikatorze nie istnieje.",
                                       f"Faktura o numerze KSeF {number} nie została znaleziona.")
            return Response(inv.xml, content_type="application/xml")

        return app

    # -- handlers ------------------------------------------------------------------------------
    def _issue_access(self, nip: str) -> dict[str, str]:
        """A new access token (TokenInfo) for a NIP with the configured lifetime."""
        token = uuid.uuid4().hex + uuid.uuid4().hex
        until = _now() + timedelta(seconds=self.access_token_seconds)
        self.access_tokens[token] = (nip, until)
        return {"token": token, "validUntil": _iso(until)}

    def _start_auth(self, body: dict[str, Any]) -> Response:
        """POST /auth/ksef-token: decrypt token|timestampMs and queue the operation's result."""
        challenge = body.get("challenge")
        context = body.get("contextIdentifier") or {}
        with self.lock:
            timestamp_ms = self.challenges.pop(challenge, None) if challenge else None
        if timestamp_ms is None:
            return self._exception(21111, "Nieprawidłowe wyzwanie autoryzacyjne.")
        if body.get("publicKeyId") not in (None, self.certificates[0]["publicKeyId"]):
            return self._exception(21470, "Przesłany identyfikator klucza jest nieznany lub wskazuje na "
                                   "wycofany klucz.", f"Klucz o identyfikatorze {body.get('publicKeyId')} "
                                   "nie jest wspierany.")
        if context.get("type") != "Nip" or not body.get("encryptedToken"):
            return self._exception(21405, "Błąd walidacji danych wejściowych.", "contextIdentifier/encryptedToken")
        failed = "Uwierzytelnianie zakończone niepowodzeniem z powodu błędnego tokenu"
        result: tuple[int, str, list[str]]
        try:
            plain = k.rsa_decrypt(self.token_key, base64.b64decode(body["encryptedToken"])).decode()
            token, _, stamp = plain.rpartition("|")
        except (ValueError, binascii.Error):
            token, stamp = "", ""
        if not token:
            result = (450, failed, ["Nieprawidłowy token"])
        elif stamp != str(timestamp_ms):
            result = (450, failed, ["Nieprawidłowy czas tokena"])
        elif token not in self.tokens.get(context.get("value", ""), set()):
            result = (450, failed, ["Nieprawidłowy token"])
        else:
            result = (200, "Uwierzytelnianie zakończone sukcesem", [])
        ref = _reference("AU")
        auth_token = uuid.uuid4().hex + uuid.uuid4().hex
        until = _now() + timedelta(minutes=15)
        with self.lock:
            self.auth_ops[ref] = {"nip": context.get("value"), "auth_token": auth_token, "result": result,
                                  "polls_left": self.processing_polls, "redeemed": False, "start": _now()}
        response = jsonify({"referenceNumber": ref, "authenticationToken": {"token": auth_token,
                                                                             "validUntil": _iso(until)}})
        response.status_code = 202
        return response

    def _open_session(self, nip: str, body: dict[str, Any]) -> Response:
        """POST /sessions/online: check the form code, decrypt the AES key, read the IV."""
        if body.get("formCode") != k.FA3_FORM_CODE:
            return self._exception(21405, "Błąd walidacji danych wejściowych.", "Nieobsługiwany formCode.")
        enc = body.get("encryption") or {}
        if enc.get("publicKeyId") not in (None, self.certificates[1]["publicKeyId"]):
            return self._exception(21470, "Przesłany identyfikator klucza jest nieznany lub wskazuje na "
                                   "wycofany klucz.")
        try:
            iv = base64.b64decode(enc["initializationVector"], validate=True)
            encrypted_key = base64.b64decode(enc["encryptedSymmetricKey"], validate=True)
        except (KeyError, binascii.Error):
            return self._exception(21405, "Błąd walidacji danych wejściowych.", "encryption")
        if len(iv) != 16:
            return self._exception(21405, "Błąd walidacji danych wejściowych.", "initializationVector: 16 bajtów")
        try:
            key: bytes | None = k.rsa_decrypt(self.symmetric_key, encrypted_key)
        except ValueError:
            key = None
        ref = _reference("SO")
        code = 100 if key is not None and len(key) == 32 else 415
        with self.lock:
            self.sessions[ref] = {"nip": nip, "key": key, "iv": iv, "code": code, "created": _now(),
                                  "updated": _now(), "count": 0}
        response = jsonify({"referenceNumber": ref, "validUntil": _iso(_now() + timedelta(hours=12))})
        response.status_code = 201
        return response

    def _send_invoice(self, nip: str, ref: str, body: dict[str, Any]) -> Response:
        """POST /sessions/online/{ref}/invoices: check sizes and hashes, decrypt, validate, number."""
        session = self.sessions.get(ref)
        if session is None or session["nip"] != nip:
            return self._exception(21173, "Brak sesji o wskazanym numerze referencyjnym.",
                                   f"Sesja o numerze referencyjnym {ref} nie została odnaleziona.")
        if session["code"] != 100:
            return self._exception(21180, "Status sesji nie pozwala na wykonanie operacji.",
                                   f"Status sesji {session['code']} uniemożliwia wysyłkę faktur.")
        try:
            encrypted = base64.b64decode(body["encryptedInvoiceContent"], validate=True)
            sizes = (int(body["encryptedInvoiceSize"]), int(body["invoiceSize"]))
            hashes_ = (body["encryptedInvoiceHash"], body["invoiceHash"])
        except (KeyError, ValueError, TypeError, binascii.Error):
            return self._exception(21405, "Błąd walidacji danych wejściowych.", "SendInvoiceRequest")
        if len(encrypted) != sizes[0]:
            return self._exception(21402, "Nieprawidłowy rozmiar pliku.", "Długość treści nie zgadza się z rozmiarem pliku.")
        if k.sha256_b64(encrypted) != hashes_[0]:
            return self._exception(21403, "Nieprawidłowy skrót pliku.", "Skrót treści nie zgadza się ze skrótem pliku.")
        try:
            plain: bytes | None = k.aes_decrypt(encrypted, session["key"], session["iv"])
        except ValueError:
            plain = None
        if plain is not None and len(plain) != sizes[1]:
            return self._exception(21402, "Nieprawidłowy rozmiar pliku.", "Długość treści nie zgadza się z rozmiarem pliku.")
        if plain is not None and k.sha256_b64(plain) != hashes_[1]:
            return self._exception(21403, "Nieprawidłowy skrót pliku.", "Skrót treści nie zgadza się ze skrótem pliku.")
        with self.lock:
            session["count"] += 1
            session["updated"] = _now()
            inv = StoredInvoice(_reference("EE"), ref, session["count"], hashes_[1], _now(), plain or b"",
                                polls_left=self.processing_polls)
            if plain is None:
                inv.code, inv.description = 435, "Błąd odszyfrowania pliku"
            else:
                self._process(inv, seller_nip=nip, now=_now())
            self.invoices.append(inv)
        if request.environ.get("fake.crash_after_accept"):
            inv.polls_left = 0
            return Response("Internal Server Error", status=500, content_type="text/plain")
        response = jsonify({"referenceNumber": inv.reference_number})
        response.status_code = 202
        return response

    def _process(self, inv: StoredInvoice, seller_nip: str | None, now: datetime) -> None:
        """Validate an invoice against FA(3), check duplicates and give it a KSeF number."""
        try:
            doc = etree.fromstring(inv.xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            inv.code, inv.description, inv.details = 450, "Błąd weryfikacji semantyki dokumentu faktury", [str(exc)]
            return
        if not self.schema.validate(doc):
            inv.code, inv.description = 450, "Błąd weryfikacji semantyki dokumentu faktury"
            inv.details = [f"Linia {e.line}: {e.message}" for e in list(self.schema.error_log)[:5]]
            return
        meta = _invoice_meta(doc)
        inv.meta = meta
        if seller_nip is not None and meta["seller_nip"] != seller_nip:
            inv.code, inv.description = 410, "Nieprawidłowy zakres uprawnień"
            return
        key = (meta["seller_nip"], meta["invoiceType"], meta["invoiceNumber"])
        original = next((i for i in self.invoices if i.code == 200 and
                         (i.meta["seller_nip"], i.meta["invoiceType"], i.meta["invoiceNumber"]) == key), None)
        if original is not None:
            inv.code, inv.description = 440, "Duplikat faktury"
            inv.details = [f"Duplikat faktury. Faktura o numerze KSeF: {original.ksef_number} została już "
                           f"prawidłowo przesłana do systemu w sesji: {original.session_reference}"]
            inv.extensions = {"originalSessionReferenceNumber": original.session_reference,
                              "originalKsefNumber": original.ksef_number or ""}
            return
        inv.code, inv.description = 200, "Sukces"
        inv.ksef_number = k.make_ksef_number(meta["seller_nip"], now.date(), uuid.uuid4().hex[:12])
        inv.meta["acquired"] = now
        inv.meta["stored"] = now + timedelta(seconds=1)

    def _invoice_json(self, inv: StoredInvoice, pending: bool = False) -> dict[str, Any]:
        """SessionInvoiceStatusResponse of an invoice."""
        body: dict[str, Any] = {"ordinalNumber": inv.ordinal, "referenceNumber": inv.reference_number,
                                "invoiceHash": inv.invoice_hash, "invoicingDate": _iso(inv.invoicing_date),
                                "invoicingMode": "Online"}
        if pending:
            body["status"] = {"code": 100, "description": "Faktura przyjęta do dalszego przetwarzania"}
            return body
        if inv.meta.get("invoiceNumber"):
            body["invoiceNumber"] = inv.meta["invoiceNumber"]
        status: dict[str, Any] = {"code": inv.code, "description": inv.description}
        if inv.details:
            status["details"] = inv.details
        if inv.extensions:
            status["extensions"] = inv.extensions
        body["status"] = status
        if inv.ksef_number:
            body.update(ksefNumber=inv.ksef_number, acquisitionDate=_iso(inv.meta["acquired"]),
                        permanentStorageDate=_iso(inv.meta["stored"]))
        return body

    def _session_status(self, ref: str, session: dict[str, Any]) -> dict[str, Any]:
        """SessionStatusResponse; a closed session gets its UPO on the next status call."""
        items = [i for i in self.invoices if i.session_reference == ref]
        ok = [i for i in items if i.code == 200]
        descriptions = {100: "Sesja interaktywna otwarta", 170: "Sesja interaktywna zamknięta",
                        200: "Sesja interaktywna przetworzona pomyślnie", 415: "Błąd odszyfrowania dostarczonego klucza",
                        440: "Sesja anulowana", 445: "Błąd weryfikacji, brak poprawnych faktur"}
        with self.lock:
            if session["code"] == 170 and session.get("seen_closed"):
                if not items:
                    session["code"] = 440
                elif not ok:
                    session["code"] = 445
                else:
                    session["code"] = 200
                    session["upo_ref"] = _reference("EU")
                    session["upo"] = self._upo_xml(ref, session, ok)
            elif session["code"] == 170:
                session["seen_closed"] = True
        body: dict[str, Any] = {"status": {"code": session["code"], "description": descriptions[session["code"]]},
                                "dateCreated": _iso(session["created"]), "dateUpdated": _iso(session["updated"]),
                                "validUntil": _iso(session["created"] + timedelta(hours=12)),
                                "invoiceCount": len(items), "successfulInvoiceCount": len(ok),
                                "failedInvoiceCount": len([i for i in items if i.code >= 400])}
        if session.get("upo_ref"):
            body["upo"] = {"pages": [{"referenceNumber": session["upo_ref"],
                                      "downloadUrl": f"{request.host_url.rstrip('/')}{PREFIX}/sessions/{ref}/upo/{session['upo_ref']}",
                                      "downloadUrlExpirationDate": _iso(_now() + timedelta(days=3))}]}
        return body

    def _upo_xml(self, ref: str, session: dict[str, Any], accepted: list[StoredInvoice]) -> bytes:
        """Session UPO in the shape of the official example, valid against upo-v4-3.xsd."""
        root = etree.Element(f"{{{UPO_NS}}}Potwierdzenie", nsmap={None: UPO_NS})

        def sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
            el = etree.SubElement(parent, f"{{{UPO_NS}}}{name}")
            if text is not None:
                el.text = text
            return el

        sub(root, "NazwaPodmiotuPrzyjmujacego", "Ministerstwo Finansów")
        sub(root, "NumerReferencyjnySesji", ref)
        auth = sub(root, "Uwierzytelnienie")
        sub(sub(auth, "IdKontekstu"), "Nip", session["nip"])
        sub(auth, "NumerReferencyjnyTokenaKSeF", _reference("TK"))
        sub(root, "NazwaStrukturyLogicznej", "Schemat_FA(3)_v1-0E.xsd")
        sub(root, "KodFormularza", "FA (3)")
        for inv in accepted:
            doc = sub(root, "Dokument")
            sub(doc, "NipSprzedawcy", inv.meta["seller_nip"])
            sub(doc, "NumerKSeFDokumentu", inv.ksef_number)
            sub(doc, "NumerFaktury", inv.meta["invoiceNumber"])
            sub(doc, "DataWystawieniaFaktury", inv.meta["issueDate"])
            sub(doc, "DataPrzeslaniaDokumentu", _iso(inv.invoicing_date))
            sub(doc, "DataNadaniaNumeruKSeF", _iso(inv.meta["acquired"]))
            sub(doc, "SkrotDokumentu", inv.invoice_hash)
            sub(doc, "TrybWysylki", "Online")
        return etree.tostring(root, xml_declaration=True, encoding="utf-8")

    def _query_metadata(self, nip: str, body: dict[str, Any]) -> Response:
        """POST /invoices/query/metadata with subjectType, dateRange and page parameters."""
        try:
            size = int(request.args.get("pageSize", 10))
            offset = int(request.args.get("pageOffset", 0))
            subject = body["subjectType"]
            date_range = body["dateRange"]
            date_type = date_range["dateType"]
            start = k.parse_time(date_range["from"])
            end = k.parse_time(date_range["to"]) if date_range.get("to") else _now()
        except (KeyError, ValueError, TypeError):
            return self._exception(21405, "Błąd walidacji danych wejściowych.", "InvoiceQueryFilters")
        if not 10 <= size <= 250 or offset < 0 or subject not in ("Subject1", "Subject2") or \
                date_type not in ("Issue", "Invoicing", "PermanentStorage"):
            return self._exception(21405, "Błąd walidacji danych wejściowych.", "pageSize/subjectType/dateType")
        field_name = {"Subject1": "seller_nip", "Subject2": "buyer_nip"}[subject]

        def moment(inv: StoredInvoice) -> datetime:
            if date_type == "Issue":
                return datetime.fromisoformat(inv.meta["issueDate"]).replace(tzinfo=timezone.utc)
            return inv.invoicing_date if date_type == "Invoicing" else inv.meta["stored"]

        found = sorted((i for i in self.invoices if i.code == 200 and i.meta.get(field_name) == nip
                        and start <= moment(i) <= end), key=moment)
        page = found[offset * size:(offset + 1) * size]
        return jsonify({"hasMore": (offset + 1) * size < len(found), "isTruncated": False,
                        "permanentStorageHwmDate": _iso(_now()),
                        "invoices": [_metadata_json(i) for i in page]})


def _invoice_meta(doc: etree._Element) -> dict[str, Any]:
    """Seller, buyer, number, dates and amounts read from a valid FA(3) document."""
    ns = {"fa": FA_NS}

    def text(path: str) -> str:
        return doc.findtext(path, default="", namespaces=ns).strip()

    def total(prefix: str) -> Decimal:
        return sum((Decimal(el.text) for el in doc.find("fa:Fa", ns) if el.tag.startswith(f"{{{FA_NS}}}{prefix}")
                    and el.text), Decimal("0"))

    kinds = {"VAT": "Vat", "ZAL": "Zal", "KOR": "Kor", "ROZ": "Roz", "UPR": "Upr", "KOR_ZAL": "KorZal",
             "KOR_ROZ": "KorRoz"}
    return {"seller_nip": text("fa:Podmiot1/fa:DaneIdentyfikacyjne/fa:NIP"),
            "seller_name": text("fa:Podmiot1/fa:DaneIdentyfikacyjne/fa:Nazwa"),
            "buyer_nip": text("fa:Podmiot2/fa:DaneIdentyfikacyjne/fa:NIP"),
            "buyer_name": text("fa:Podmiot2/fa:DaneIdentyfikacyjne/fa:Nazwa"),
            "invoiceNumber": text("fa:Fa/fa:P_2"), "issueDate": text("fa:Fa/fa:P_1"),
            "currency": text("fa:Fa/fa:KodWaluty"),
            "invoiceType": kinds.get(text("fa:Fa/fa:RodzajFaktury"), "Vat"),
            "gross": Decimal(text("fa:Fa/fa:P_15") or "0"), "net": total("P_13_"), "vat": total("P_14_")}


def _metadata_json(inv: StoredInvoice) -> dict[str, Any]:
    """InvoiceMetadata of a stored invoice."""
    m = inv.meta
    buyer = {"identifier": {"type": "Nip", "value": m["buyer_nip"]}} if m["buyer_nip"] else {
        "identifier": {"type": "None"}}
    if m["buyer_name"]:
        buyer["name"] = m["buyer_name"]
    return {"ksefNumber": inv.ksef_number, "invoiceNumber": m["invoiceNumber"], "issueDate": m["issueDate"],
            "invoicingDate": _iso(inv.invoicing_date), "acquisitionDate": _iso(m["acquired"]),
            "permanentStorageDate": _iso(m["stored"]),
            "seller": {"nip": m["seller_nip"], "name": m["seller_name"]}, "buyer": buyer,
            "netAmount": float(m["net"]), "grossAmount": float(m["gross"]), "vatAmount": float(m["vat"]),
            "currency": m["currency"], "invoicingMode": "Online", "invoiceType": m["invoiceType"],
            "formCode": k.FA3_FORM_CODE, "isSelfInvoicing": False, "hasAttachment": False,
            "invoiceHash": inv.invoice_hash, "thirdSubjects": []}


@contextmanager
def running_fake_ksef(fake: FakeKsef | None = None, **kwargs: Any) -> Iterator[tuple[FakeKsef, str]]:
    """Serve a fake on a free 127.0.0.1 port in a thread; yields (fake, base URL ending in /v2)."""
    fake = fake or FakeKsef(**kwargs)
    server = make_server("127.0.0.1", 0, fake.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_port}{PREFIX}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def main(argv: list[str] | None = None) -> None:
    """Run the fake standalone: ``python -m tests.fakes.ksef --port N --token NIP=TOKEN``."""
    parser = argparse.ArgumentParser(description="Local fake of KSeF 2.0")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--token", action="append", default=[], metavar="NIP=TOKEN",
                        help="a KSeF token accepted for a NIP (repeatable); also KSEF_FAKE_TOKENS=NIP=T,NIP=T")
    parser.add_argument("--schema", default=os.environ.get("KSEF_FA3_SCHEMA", str(k.FA3_SCHEMA_PATH)),
                        help="FA(3) XSD to validate invoices against (default KSEF_FA3_SCHEMA or the bundled one)")
    args = parser.parse_args(argv)
    tokens: dict[str, set[str]] = {}
    pairs = args.token + [p for p in os.environ.get("KSEF_FAKE_TOKENS", "").split(",") if p]
    for pair in pairs:
        nip, _, token = pair.partition("=")
        tokens.setdefault(nip.strip(), set()).add(token.strip())
    fake = FakeKsef(tokens, schema_path=Path(args.schema))
    print(f"fake KSeF on http://{args.host}:{args.port}{PREFIX} for NIPs: {', '.join(sorted(tokens)) or 'none'}",
          flush=True)
    make_server(args.host, args.port, fake.app, threaded=True).serve_forever()


if __name__ == "__main__":
    main()

