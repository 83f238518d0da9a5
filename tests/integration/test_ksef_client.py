"""KSeF 2.0 client against the local fake over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import logging
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from lxml import etree

from app.integrations import ksef as k
from app.integrations.ksef import (
    KsefAuthError,
    KsefClient,
    KsefError,
    KsefRateLimited,
    KsefRejected,
    KsefUnavailable,
)
from tests.fakes.ksef import FakeKsef, running_fake_ksef

SELLER, SELLER_TOKEN = "1111111111", "seller-ksef-token-0001"
BUYER, BUYER_TOKEN = "5265877635", "buyer-ksef-token-0002"
OTHER = "7352765225"
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ksef_fa3_invoice.xml"
XML = FIXTURE.read_bytes()


@pytest.fixture()
def fake_ksef() -> Iterator[tuple[FakeKsef, str]]:
    """A fresh fake KSeF on a free 127.0.0.1 port knowing the seller's and the buyer's tokens."""
    with running_fake_ksef(tokens={SELLER: {SELLER_TOKEN}, BUYER: {BUYER_TOKEN}}) as running:
        yield running


def make_client(url: str, nip: str = SELLER, token: str = SELLER_TOKEN, **kwargs: Any) -> KsefClient:
    """Client with fast polling for tests."""
    kwargs.setdefault("poll_interval", 0.01)
    kwargs.setdefault("poll_timeout", 5)
    return KsefClient(url, nip, token, **kwargs)


def variant(number: int, buyer: str = BUYER) -> bytes:
    """The fixture invoice with another invoice number (P_2) and buyer NIP."""
    return XML.replace(b"FV/1/02/2026", f"FV/{number}/02/2026".encode()).replace(
        b"<NIP>5265877635</NIP>", f"<NIP>{buyer}</NIP>".encode())


def upo_schema() -> etree.XMLSchema:
    """The official UPO v4-3 schema kept in the repository."""
    return etree.XMLSchema(etree.parse(str(k.UPO_SCHEMA_PATH)))


def test_fixture_invoice_is_valid_fa3() -> None:
    schema = etree.XMLSchema(etree.parse(str(k.FA3_SCHEMA_PATH)))
    assert schema.validate(etree.parse(str(FIXTURE))), schema.error_log


def test_send_invoice_end_to_end(fake_ksef: tuple[FakeKsef, str]) -> None:
    fake, url = fake_ksef
    client = make_client(url)

    certificates = client.public_key_certificates()
    assert sorted(u for c in certificates for u in c["usage"]) == [k.USAGE_TOKEN, k.USAGE_SYMMETRIC_KEY]
    session = client.open_online_session()  # authenticates on first use
    invoice_ref = client.send_invoice(session, XML)
    first = client.invoice_status(session.reference_number, invoice_ref)
    assert (first.code, first.ksef_number) == (100, None)
    status = client.wait_for_invoice(session.reference_number, invoice_ref)

    assert status.code == 200
    assert k.is_valid_ksef_number(status.ksef_number or "")
    assert status.ksef_number.startswith(f"{SELLER}-{datetime.now(timezone.utc):%Y%m%d}-")
    assert status.invoice_hash == k.sha256_b64(XML)
    assert fake.invoices[0].xml == XML  # decrypted byte for byte

    client.close_session(session.reference_number)
    pages = client.wait_for_session_upo(session.reference_number)
    assert len(pages) == 1
    upo = etree.fromstring(pages[0])
    assert upo_schema().validate(upo), upo_schema().error_log
    ns = {"u": "http://upo.schematy.mf.gov.pl/KSeF/v4-3"}
    assert upo.findtext("u:NumerReferencyjnySesji", namespaces=ns) == session.reference_number
    assert upo.findtext("u:Dokument/u:NumerKSeFDokumentu", namespaces=ns) == status.ksef_number
    assert upo.findtext("u:Dokument/u:SkrotDokumentu", namespaces=ns) == k.sha256_b64(XML)
    assert upo.findtext("u:Dokument/u:NumerFaktury", namespaces=ns) == "FV/1/02/2026"
    final = client.session_status(session.reference_number)
    assert (final.code, final.invoice_count, final.successful_invoice_count) == (200, 1, 1)


def _cbc(plain: bytes, key: bytes, iv: bytes) -> bytes:
    """AES-256-CBC + PKCS#7 written out independently of the client."""
    padder = sym_padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()


def _send_raw(client: KsefClient, session: k.OnlineSession, encrypted: bytes) -> str:
    """POST an already encrypted invoice with correct hashes and sizes; returns the reference."""
    body = {"invoiceHash": k.sha256_b64(XML), "invoiceSize": len(XML), "encryptedInvoiceHash": k.sha256_b64(encrypted),
            "encryptedInvoiceSize": len(encrypted), "encryptedInvoiceContent": base64.b64encode(encrypted).decode()}
    return client._authed("POST", f"/sessions/online/{session.reference_number}/invoices", json=body).json()[
        "referenceNumber"]


def test_iv_goes_with_session_open_not_in_front_of_the_ciphertext(fake_ksef: tuple[FakeKsef, str]) -> None:
    """The OpenAPI reading: the IV is sent once at session open; the ciphertext has no IV prefix."""
    fake, url = fake_ksef
    client = make_client(url)
    session = client.open_online_session()
    raw = _cbc(XML, session.key, session.iv)
    assert k.aes_encrypt(XML, session.key, session.iv) == raw  # what the client sends
    assert len(raw) == (len(XML) // 16 + 1) * 16
    accepted = client.wait_for_invoice(session.reference_number, _send_raw(client, session, raw))
    assert accepted.code == 200
    with pytest.raises(KsefError) as err:  # the fake is strict about the same reading
        _send_raw(client, session, session.iv + _cbc(XML, session.key, session.iv))
    assert (err.value.status, err.value.code) == (400, 21402)
    assert len(fake.invoices) == 1


def test_access_token_is_refreshed_when_it_expires(fake_ksef: tuple[FakeKsef, str]) -> None:
    fake, url = fake_ksef
    fake.access_token_seconds = 1
    client = make_client(url, refresh_margin_seconds=0)
    client.authenticate()
    time.sleep(1.2)
    session = client.open_online_session()
    assert fake.refresh_count == 1
    fake.expire_access_tokens()  # the server refuses the token before its validUntil: 401, refresh, retry
    assert client.session_status(session.reference_number).code == 100
    assert fake.refresh_count == 2
    assert len(fake.auth_ops) == 1  # no second full login


def test_wrong_ksef_token_is_refused(fake_ksef: tuple[FakeKsef, str]) -> None:
    _, url = fake_ksef
    client = make_client(url, token="not-a-token")
    with pytest.raises(KsefAuthError) as err:
        client.authenticate()
    assert err.value.code == 450
    assert err.value.details == ["Nieprawidłowy token"]
    with pytest.raises(KsefAuthError):
        make_client(url, nip=BUYER, token=SELLER_TOKEN).authenticate()  # a token of another NIP
    with pytest.raises(KsefAuthError) as stale:  # a 400 of the login endpoints is an authentication failure
        client._request("POST", "/auth/ksef-token", json={"challenge": "20250514-CR-226FB7B000-3ACF9BE4C0-10",
                                                          "contextIdentifier": {"type": "Nip", "value": SELLER},
                                                          "encryptedToken": "AAAA"})
    assert (stale.value.code, stale.value.description) == (21111, "Nieprawidłowe wyzwanie autoryzacyjne.")


def test_401_maps_to_auth_error_after_one_refresh(fake_ksef: tuple[FakeKsef, str]) -> None:
    fake, url = fake_ksef
    client = make_client(url)
    client.authenticate()
    fake.fail(status=401, path="/sessions/online", times=2)
    with pytest.raises(KsefAuthError) as err:
        client.open_online_session()
    assert err.value.status == 401
    assert err.value.description == "Wymagane jest uwierzytelnienie."
    assert fake.refresh_count == 1


def test_429_carries_retry_after(fake_ksef: tuple[FakeKsef, str]) -> None:
    fake, url = fake_ksef
    client = make_client(url)
    client.authenticate()
    fake.fail(status=429, retry_after=17, path="/sessions/online")
    with pytest.raises(KsefRateLimited) as err:
        client.open_online_session()
    assert err.value.retry_after_seconds == 17
    assert "17 sekundach" in err.value.details[0]


def test_503_and_timeout_and_refused_connection_are_unavailable(fake_ksef: tuple[FakeKsef, str]) -> None:
    fake, url = fake_ksef
    client = make_client(url, timeout=0.3)
    client.authenticate()
    fake.fail(status=503, path="/sessions/online")
    with pytest.raises(KsefUnavailable) as err:
        client.open_online_session()
    assert err.value.status == 503
    fake.fail("timeout", path="/sessions/online", sleep=1.0)
    with pytest.raises(KsefUnavailable) as err:
        client.open_online_session()
    assert err.value.status is None and "timed out" in str(err.value)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    with pytest.raises(KsefUnavailable):
        make_client(f"http://127.0.0.1:{closed_port}/v2").public_key_certificates()


def test_invalid_invoice_is_rejected_with_the_description(fake_ksef: tuple[FakeKsef, str]) -> None:
    _, url = fake_ksef
    client = make_client(url)
    session = client.open_online_session()
    invalid = XML.replace(b"<P_2>FV/1/02/2026</P_2>", b"")
    ref = client.send_invoice(session, invalid)
    with pytest.raises(KsefRejected) as err:
        client.wait_for_invoice(session.reference_number, ref)
    assert err.value.code == 450
    assert err.value.description == "Błąd weryfikacji semantyki dokumentu faktury"
    assert "P_2" in err.value.details[0]
    client.close_session(session.reference_number)
    with pytest.raises(KsefError) as ended:
        client.wait_for_session_upo(session.reference_number)
    assert ended.value.code == 445


def test_tampered_hash_is_refused(fake_ksef: tuple[FakeKsef, str]) -> None:
    fake, url = fake_ksef
    client = make_client(url)
    session = client.open_online_session()
    encrypted = k.aes_encrypt(XML, session.key, session.iv)
    body = {"invoiceHash": k.sha256_b64(XML + b" "), "invoiceSize": len(XML),
            "encryptedInvoiceHash": k.sha256_b64(encrypted), "encryptedInvoiceSize": len(encrypted),
            "encryptedInvoiceContent": base64.b64encode(encrypted).decode()}
    with pytest.raises(KsefError) as err:
        client._authed("POST", f"/sessions/online/{session.reference_number}/invoices", json=body)
    assert not isinstance(err.value, (KsefRejected, KsefUnavailable))
    assert (err.value.code, err.value.description) == (21403, "Nieprawidłowy skrót pliku.")
    body.update(invoiceHash=k.sha256_b64(XML), encryptedInvoiceHash=k.sha256_b64(encrypted[:-1]))
    with pytest.raises(KsefError) as err:
        client._authed("POST", f"/sessions/online/{session.reference_number}/invoices", json=body)
    assert err.value.code == 21403
    assert fake.accepted_invoices(SELLER) == []


def test_crash_after_accepting_can_be_reconciled_by_hash(fake_ksef: tuple[FakeKsef, str]) -> None:
    fake, url = fake_ksef
    client = make_client(url)
    session = client.open_online_session()
    fake.fail("crash_after_accept", path="/invoices")
    with pytest.raises(KsefUnavailable):
        client.send_invoice(session, XML)
    accepted = fake.accepted_invoices(SELLER)
    assert [a["invoiceHash"] for a in accepted] == [k.sha256_b64(XML)]
    listed = client.session_invoices(session.reference_number)
    assert [(i.invoice_hash, i.ksef_number) for i in listed] == [(k.sha256_b64(XML), accepted[0]["ksefNumber"])]
    assert k.is_valid_ksef_number(listed[0].ksef_number or "")
    again = client.send_invoice(session, XML)  # a blind resend is caught as a duplicate
    with pytest.raises(KsefRejected) as err:
        client.wait_for_invoice(session.reference_number, again)
    assert err.value.code == 440
    assert err.value.extensions["originalKsefNumber"] == accepted[0]["ksefNumber"]


def test_session_invoices_follow_the_continuation_token(fake_ksef: tuple[FakeKsef, str]) -> None:
    _, url = fake_ksef
    client = make_client(url)
    session = client.open_online_session()
    refs = [client.send_invoice(session, variant(n)) for n in range(1, 13)]
    listed = client.session_invoices(session.reference_number, page_size=10)
    assert [i.reference_number for i in listed] == refs


def test_ksef_number_validation() -> None:
    for number in ("5265877635-20250826-0100001AF629-AF", "5265877635-20250916-0200A0D6723E-C2"):
        assert k.is_valid_ksef_number(number)
    assert not k.is_valid_ksef_number("5265877635-20250826-0100001AF629-AE")  # wrong CRC
    assert not k.is_valid_ksef_number("5265877635-20250826-0100001af629-AF")  # lower case
    assert not k.is_valid_ksef_number("5265877635-20250826-0100001AF629AF")  # 34 characters
    made = k.make_ksef_number(SELLER, date(2026, 2, 1), "0a1b2c3d4e5f")
    assert made.startswith("1111111111-20260201-0A1B2C3D4E5F-") and k.is_valid_ksef_number(made)


def test_kod_i_url() -> None:
    assert k.kod_i_url_from_hash("test", "1111111111", date(2026, 2, 1), "UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE") == (
        "https://qr-test.ksef.mf.gov.pl/invoice/1111111111/01-02-2026/UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE")
    expected = base64.urlsafe_b64encode(hashlib.sha256(XML).digest()).decode().rstrip("=")
    assert k.kod_i_url("production", SELLER, date(2026, 2, 1), XML) == (
        f"https://qr.ksef.mf.gov.pl/invoice/1111111111/01-02-2026/{expected}")
    assert len(expected) == 43 and "=" not in expected and "+" not in expected and "/" not in expected
    assert k.kod_i_url("demo", SELLER, date(2026, 12, 31), XML).startswith(
        "https://qr-demo.ksef.mf.gov.pl/invoice/1111111111/31-12-2026/")


def test_purchase_invoices_query_paging_and_download(fake_ksef: tuple[FakeKsef, str]) -> None:
    fake, url = fake_ksef
    seller = make_client(url)
    session = seller.open_online_session()
    sent = seller.wait_for_invoice(session.reference_number, seller.send_invoice(session, XML)).ksef_number
    seeded = {fake.seed_invoice(variant(n)) for n in range(2, 13)}
    foreign = fake.seed_invoice(variant(99, buyer=OTHER))
    buyer = make_client(url, nip=BUYER, token=BUYER_TOKEN)
    since, until = datetime.now(timezone.utc) - timedelta(days=1), datetime.now(timezone.utc) + timedelta(days=1)

    first = buyer.query_invoice_metadata(since, until, page_offset=0, page_size=10)
    second = buyer.query_invoice_metadata(since, until, page_offset=1, page_size=10)
    assert (len(first.invoices), first.has_more, len(second.invoices), second.has_more) == (10, True, 2, False)
    numbers = {i["ksefNumber"] for i in buyer.iter_purchase_invoices(since, until, page_size=10)}
    assert numbers == seeded | {sent}
    assert foreign not in numbers
    meta = next(i for i in first.invoices + second.invoices if i["ksefNumber"] == sent)
    assert (meta["seller"]["nip"], meta["buyer"]["identifier"], meta["grossAmount"]) == (
        SELLER, {"type": "Nip", "value": BUYER}, 123.0)
    assert buyer.download_invoice(sent) == XML
    assert buyer.query_invoice_metadata(until, until + timedelta(days=1), page_size=10).invoices == []
    with pytest.raises(KsefError) as err:
        buyer.download_invoice(foreign)
    assert err.value.code == 21164


def test_no_secret_is_logged(fake_ksef: tuple[FakeKsef, str], caplog: pytest.LogCaptureFixture) -> None:
    fake, url = fake_ksef
    client = make_client(url)
    with caplog.at_level(logging.DEBUG):
        session = client.open_online_session()
        client.wait_for_invoice(session.reference_number, client.send_invoice(session, XML))
        fake.expire_access_tokens()
        client.close_session(session.reference_number)
    secrets = [SELLER_TOKEN, client._access_token, client._refresh_token, base64.b64encode(session.key).decode()]
    assert "KSeF POST /sessions/online -> 201" in caplog.text
    for secret in secrets:
        assert secret and secret not in caplog.text
        assert secret not in repr(client) and secret not in repr(session)


def test_client_from_config() -> None:
    assert KsefClient.from_config({"KSEF_ENVIRONMENT": "production"}, SELLER, "t").base_url == (
        "https://api.ksef.mf.gov.pl/v2")
    assert KsefClient.from_config({"KSEF_ENVIRONMENT": "demo"}, SELLER, "t").base_url == (
        "https://api-demo.ksef.mf.gov.pl/v2")
    client = KsefClient.from_config({"KSEF_ENVIRONMENT": "test", "KSEF_BASE_URL": "http://127.0.0.1:1/v2/",
                                     "KSEF_TIMEOUT": "7"}, SELLER, "t")
    assert (client.base_url, client.timeout[1]) == ("http://127.0.0.1:1/v2", 7.0)
    with pytest.raises(KsefError):
        KsefClient.from_config({"KSEF_ENVIRONMENT": "staging"}, SELLER, "t")


def test_fake_runs_standalone() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.ksef", "--port", str(port),
                             "--token", f"{SELLER}={SELLER_TOKEN}"], cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert f"http://127.0.0.1:{port}/v2" in proc.stdout.readline()
        for _ in range(50):
            try:
                response = requests.get(f"http://127.0.0.1:{port}/v2/security/public-key-certificates", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert response.status_code == 200 and len(response.json()) == 2
        make_client(f"http://127.0.0.1:{port}/v2").authenticate()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
