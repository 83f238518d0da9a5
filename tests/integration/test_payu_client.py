"""The PayU client against the local fake PayU over HTTP: OAuth, orders, the 302 answer, signatures."""

from __future__ import annotations

import logging
import socket
import threading
from decimal import Decimal
from typing import Any, Iterator

import pytest
import requests

from app.integrations import payu
from tests.fakes.payu import FakePayu, running_fake_payu

VECTOR_KEY = "13a980d4f851f3d9a1cfc792fb1f5e50"
VECTOR_HEADER = ("sender=145227;algorithm=SHA-256;"
                 "signature=846b2de129d2200443bd72abe691ce174fcec064f89dc529d6a5d98a046cbb4d")


@pytest.fixture()
def fake() -> Iterator[tuple[FakePayu, payu.PayuClient]]:
    """A fake PayU and a client configured for it (the token cache emptied first)."""
    payu._TOKENS.clear()
    with running_fake_payu(auto_notify=False) as (running, url):
        config = payu.PayuConfig.from_mapping({
            "PAYU_ENV": url, "PAYU_POS_ID": running.pos_id, "PAYU_CLIENT_ID": running.client_id,
            "PAYU_CLIENT_SECRET": running.client_secret, "PAYU_SECOND_KEY": running.second_key,
        })
        yield running, payu.PayuClient(config)
    payu._TOKENS.clear()


def _order(client: payu.PayuClient, ext: str = "KL1-abc", method: str = "blik") -> payu.CreatedOrder:
    return client.create_order(ext_order_id=ext, amount=Decimal("99.00"), description="Abonament", buyer_email="a@b.pl",
                               notify_url="http://127.0.0.1:1/payu/notify", continue_url="http://127.0.0.1:1/back",
                               customer_ip="127.0.0.1", method=method, product_name="Abonament AppLarge")


def test_signature_test_vector_and_every_change_fails() -> None:
    assert payu.verify_signature(b"TEST_OK", VECTOR_HEADER, VECTOR_KEY) is True
    assert payu.verify_signature(b"TEST_OK ", VECTOR_HEADER, VECTOR_KEY) is False
    assert payu.verify_signature(b"TEST_OK", VECTOR_HEADER, "0" + VECTOR_KEY[1:]) is False
    assert payu.verify_signature(b"TEST_OK", None, VECTOR_KEY) is False
    assert payu.verify_signature(b"TEST_OK", VECTOR_HEADER.replace("SHA-256", "SHA-1"), VECTOR_KEY) is False
    assert payu.verify_signature(b"TEST_OK", VECTOR_HEADER, "") is False
    md5 = payu.signature_header(b"TEST_OK", VECTOR_KEY, "145227", "MD5")
    assert payu.verify_signature(b"TEST_OK", md5, VECTOR_KEY) is True
    assert payu.verify_signature(b"TEST_OK!", md5, VECTOR_KEY) is False


def test_grosze() -> None:
    assert payu.to_grosze(Decimal("99.00")) == 9900
    assert payu.to_grosze(Decimal("197.99")) == 19799


def test_oauth_form_token_cached_and_302_answer_read_not_followed(fake: Any) -> None:
    running, client = fake
    first = _order(client, "KL1-one")
    second = _order(client, "KL1-two", "card")
    assert running.token_requests == 1  # the token is cached until it expires
    assert first.redirect_uri.endswith(f"/pay/{first.order_id}")  # read from the 302's JSON, not followed
    assert first.order_id in running.orders and second.order_id in running.orders
    assert running.orders[second.order_id].body["payMethods"] == {"payMethod": {"type": "PBL", "value": "c"}}
    info = client.retrieve_order(first.order_id)
    assert (info.status, info.total_amount, info.currency, info.ext_order_id) == ("NEW", 9900, "PLN", "KL1-one")


def test_expired_token_is_fetched_again_once(fake: Any) -> None:
    running, client = fake
    _order(client, "KL1-one")
    running.tokens.clear()  # PayU forgot the token: the next call gets 401, then a new token
    _order(client, "KL1-two")
    assert running.token_requests == 2


def test_duplicate_ext_order_id_is_refused(fake: Any) -> None:
    _running, client = fake
    _order(client, "KL1-same")
    with pytest.raises(payu.PayuError) as err:
        _order(client, "KL1-same")
    assert err.value.code == "ERROR_ORDER_NOT_UNIQUE"


def test_wrong_secret_is_refused_and_the_secret_is_never_in_a_url_or_log(fake: Any, caplog: Any) -> None:
    running, client = fake
    caplog.set_level(logging.DEBUG)
    bad = payu.PayuClient(payu.PayuConfig(client.config.base_url, running.pos_id, running.client_id,
                                          "wrong-secret-value", running.second_key))
    with pytest.raises(payu.PayuError) as err:
        _order(bad, "KL1-x")
    assert err.value.status == 401
    _order(client, "KL1-y")
    assert running.client_secret not in caplog.text and "wrong-secret-value" not in caplog.text
    # a secret in the query string is refused by the fake, as PayU's form must carry it
    resp = requests.post(client.config.base_url + payu.OAUTH_PATH, timeout=5, params={
        "grant_type": "client_credentials", "client_id": running.client_id, "client_secret": running.client_secret})
    assert resp.status_code == 400
    assert running.client_secret not in repr(client) and running.second_key not in repr(client.config)


def test_unreachable_or_silent_payu_is_unavailable_within_the_timeout() -> None:
    payu._TOKENS.clear()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    closed = payu.PayuClient(payu.PayuConfig(f"http://127.0.0.1:{port}", "1", "1", "s", "k"))
    with pytest.raises(payu.PayuUnavailable):
        closed.access_token()

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    accepted: list[Any] = []
    threading.Thread(target=lambda: accepted.append(silent.accept()), daemon=True).start()
    try:
        slow = payu.PayuClient(payu.PayuConfig(f"http://127.0.0.1:{silent.getsockname()[1]}", "1", "1", "s", "k",
                                               timeout=0.5))
        with pytest.raises(payu.PayuUnavailable):  # a read timeout, not a hang
            slow.access_token()
    finally:
        silent.close()
