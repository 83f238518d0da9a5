"""A local fake of PayU REST API v2.1 speaking the same protocol over HTTP on 127.0.0.1.

* ``POST /pl/standard/user/oauth/authorize``: OAuth client credentials as a POST form (a secret in
  the query string is refused, as it must never travel in a URL).
* ``POST /api/v2_1/orders``: checks the bearer token, the POS id, amounts in grosze and a unique
  ``extOrderId``; answers ``302`` with a JSON body whose ``redirectUri`` is the fake's own page.
* ``GET /api/v2_1/orders/<orderId>``: the order as PayU reports it.
* ``GET|POST /pay/<orderId>``: the buyer's page: BLIK (six-digit code), szybki przelew (a bank
  list) or karta; "Zapłać" succeeds, "Anuluj płatność" (or BLIK code 000000, a declined card
  4000 0000 0000 0002) fails. The buyer then goes back to ``continueUrl`` (``?error=501`` on failure).
* Notifications to ``notifyUrl`` signed with the second key (``OpenPayu-Signature``), each retried
  until the shop answers 200: after ``notify_delay`` seconds PENDING, then COMPLETED (or CANCELED),
  then ``duplicates`` copies of the final one at once and one more after ``delayed_seconds``.

Run standalone: ``PAYU_CLIENT_SECRET=… PAYU_SECOND_KEY=… python -m tests.fakes.payu --port 5082
--pos-id 300746 --client-id 300746``; tests use :func:`running_fake_payu` on a free port.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import requests
from flask import Flask, Response, jsonify, redirect, request
from werkzeug.serving import make_server

from app.integrations import payu as p

BANKS = (("m", "mTransfer (mBank)"), ("o", "Pekao24Przelew"), ("i", "Płacę z Inteligo"),
         ("p", "Płać z iPKO"), ("ing", "Płać z ING"), ("sant", "Przelew24 (Santander)"))
DECLINED_BLIK = "000000"
DECLINED_CARD = "4000000000000002"


@dataclass
class FakeOrder:
    """One order the fake holds."""

    order_id: str
    body: dict[str, Any]
    status: str = "NEW"
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    paid_with: str = ""


@dataclass
class Delivery:
    """One attempt to deliver a notification: what was sent and what the shop answered."""

    order_id: str
    status: str
    http_status: int | None
    body: bytes = field(repr=False)


class FakePayu:
    """State and WSGI app of the fake; tests read ``orders`` and ``deliveries`` and call ``notify``."""

    def __init__(self, *, pos_id: str = "300746", client_id: str = "300746",
                 client_secret: str = "2ee86a66e5d97e3fadc400c9f19b065d",
                 second_key: str = "b6ca15b0d1020e8094d9b5f8d163db54", sender: str = "checkout",
                 algorithm: str = "SHA-256", auto_notify: bool = True, duplicates: int = 1,
                 delayed_seconds: float = 1.0, retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 4.0),
                 token_seconds: int = 43199, notify_delay: float = 0.0) -> None:
        self.pos_id, self.client_id, self.client_secret = pos_id, client_id, client_secret
        self.second_key, self.sender, self.algorithm = second_key, sender, algorithm
        self.auto_notify, self.duplicates, self.delayed_seconds = auto_notify, duplicates, delayed_seconds
        self.retry_delays = retry_delays
        self.token_seconds = token_seconds
        self.notify_delay = notify_delay
        self.lock = threading.RLock()
        self.tokens: dict[str, float] = {}
        self.token_requests = 0
        self.orders: dict[str, FakeOrder] = {}
        self.deliveries: list[Delivery] = []
        self.threads: list[threading.Thread] = []
        self.app = self._build_app()

    # -- helpers ---------------------------------------------------------------------------------
    def _bearer_ok(self) -> bool:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        with self.lock:
            expires = self.tokens.get(token)
        return expires is not None and expires > time.monotonic()

    @staticmethod
    def _error(status: int, code: str, desc: str = "") -> Response:
        resp = jsonify({"status": {"statusCode": code, "statusDesc": desc}})
        resp.status_code = status
        return resp

    def order_json(self, order: FakeOrder, status: str | None = None) -> dict[str, Any]:
        """The order object as PayU writes it in retrieve answers and notifications."""
        b = order.body
        out = {
            "orderId": order.order_id, "extOrderId": b.get("extOrderId", ""), "orderCreateDate": order.created,
            "notifyUrl": b.get("notifyUrl", ""), "customerIp": b.get("customerIp", ""),
            "merchantPosId": b.get("merchantPosId", ""), "description": b.get("description", ""),
            "currencyCode": b.get("currencyCode", ""), "totalAmount": b.get("totalAmount", ""),
            "buyer": b.get("buyer", {}), "products": b.get("products", []), "status": status or order.status,
        }
        if order.paid_with:
            out["payMethod"] = {"type": "PBL" if order.paid_with != "card" else "CARD_TOKEN"}
        return out

    def notification_body(self, order_id: str, status: str) -> bytes:
        """The exact bytes of a notification for ``order_id`` in ``status``."""
        with self.lock:
            order = self.orders[order_id]
            doc: dict[str, Any] = {"order": self.order_json(order, status)}
        if status == "COMPLETED":
            doc["localReceiptDateTime"] = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
            doc["properties"] = [{"name": "PAYMENT_ID", "value": str(secrets.randbelow(10**9))}]
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")

    def post_notification(self, url: str, body: bytes, header: str | None = None) -> int | None:
        """POST one notification as PayU does; returns the shop's HTTP status (None when unreachable)."""
        headers = {"Content-Type": "application/json;charset=UTF-8",
                   "OpenPayu-Signature": header or p.signature_header(body, self.second_key, self.sender,
                                                                     self.algorithm)}
        try:
            return requests.post(url, data=body, headers=headers, timeout=10).status_code
        except requests.RequestException:
            return None

    def notify(self, order_id: str, status: str, *, retry: bool = True) -> int | None:
        """Send one signed notification, retried (``retry_delays``) until the shop answers 200."""
        body = self.notification_body(order_id, status)
        url = self.orders[order_id].body["notifyUrl"]
        delays = list(self.retry_delays) if retry else []
        while True:
            code = self.post_notification(url, body)
            with self.lock:
                self.deliveries.append(Delivery(order_id, status, code, body))
            if code == 200 or not delays:
                return code
            time.sleep(delays.pop(0))

    def _notify_all(self, order_id: str, final: str) -> None:
        time.sleep(self.notify_delay)
        self.notify(order_id, "PENDING")
        self.notify(order_id, final)
        for _ in range(self.duplicates):
            self.notify(order_id, final)
        if self.delayed_seconds >= 0:
            time.sleep(self.delayed_seconds)
            self.notify(order_id, final)

    def start_notifications(self, order_id: str, final: str) -> threading.Thread:
        """Deliver the order's notifications in the background (PENDING, final, duplicates, delayed)."""
        thread = threading.Thread(target=self._notify_all, args=(order_id, final), daemon=True)
        with self.lock:
            self.threads.append(thread)
        thread.start()
        return thread

    def wait_notifications(self, timeout: float = 30.0) -> None:
        """Wait until every background notification was delivered (or gave up)."""
        deadline = time.monotonic() + timeout
        for thread in list(self.threads):
            thread.join(max(0.0, deadline - time.monotonic()))

    # -- the WSGI app ----------------------------------------------------------------------------
    def _build_app(self) -> Flask:
        app = Flask("fake_payu")

        @app.post(p.OAUTH_PATH)
        def oauth() -> Response:
            if "client_secret" in request.args or "client_id" in request.args:
                return self._error(400, "INVALID_REQUEST", "credentials must be sent as a POST form")
            form = request.form
            if form.get("grant_type") != "client_credentials":
                return self._error(400, "UNSUPPORTED_GRANT_TYPE")
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                resp = jsonify({"error": "invalid_client", "error_description": "Bad client credentials"})
                resp.status_code = 401
                return resp
            token = secrets.token_hex(16)
            with self.lock:
                self.tokens[token] = time.monotonic() + self.token_seconds
                self.token_requests += 1
            return jsonify({"access_token": token, "token_type": "bearer", "expires_in": self.token_seconds,
                            "grant_type": "client_credentials"})

        @app.post(p.ORDERS_PATH)
        def create_order() -> Response:
            if not self._bearer_ok():
                return self._error(401, "UNAUTHORIZED", "Invalid access token")
            body = request.get_json(silent=True)
            problem = self._order_problem(body)
            if problem:
                return self._error(400, "ERROR_VALUE_INVALID", problem)
            assert isinstance(body, dict)
            with self.lock:
                ext = body.get("extOrderId")
                if ext and any(o.body.get("extOrderId") == ext for o in self.orders.values()):
                    return self._error(400, "ERROR_ORDER_NOT_UNIQUE", "extOrderId already used")
                order_id = secrets.token_hex(10).upper() + "GUEST000P01"
                self.orders[order_id] = FakeOrder(order_id, body)
            uri = f"{request.host_url.rstrip('/')}/pay/{order_id}"
            resp = jsonify({"status": {"statusCode": "SUCCESS"}, "redirectUri": uri, "orderId": order_id,
                            "extOrderId": body.get("extOrderId", "")})
            resp.status_code = 302
            resp.headers["Location"] = uri
            return resp

        @app.get(p.ORDERS_PATH + "/<order_id>")
        def retrieve_order(order_id: str) -> Response:
            if not self._bearer_ok():
                return self._error(401, "UNAUTHORIZED", "Invalid access token")
            order = self.orders.get(order_id)
            if order is None:
                return self._error(404, "DATA_NOT_FOUND")
            return jsonify({"orders": [self.order_json(order)], "status": {"statusCode": "SUCCESS"}})

        @app.route("/pay/<order_id>", methods=["GET", "POST"])
        def pay(order_id: str) -> Any:
            order = self.orders.get(order_id)
            if order is None:
                return Response("Nie ma takiego zamówienia.", status=404)
            if order.status in ("COMPLETED", "CANCELED"):
                return Response(self._page(order, "", done=True), mimetype="text/html")
            if request.method == "GET":
                return Response(self._page(order, ""), mimetype="text/html")
            return self._pay(order)

        return app

    def _order_problem(self, body: Any) -> str:
        if not isinstance(body, dict):
            return "JSON body required"
        for name in ("notifyUrl", "customerIp", "merchantPosId", "description", "currencyCode", "totalAmount"):
            if not str(body.get(name) or "").strip():
                return f"missing {name}"
        if str(body["merchantPosId"]) != self.pos_id:
            return "merchantPosId does not match"
        if not re.fullmatch(r"[1-9]\d*", str(body["totalAmount"])):
            return "totalAmount must be a positive integer in grosze"
        products = body.get("products")
        if not isinstance(products, list) or not products:
            return "missing products"
        total = sum(int(str(x.get("unitPrice", "0"))) * int(str(x.get("quantity", "0"))) for x in products)
        if total != int(str(body["totalAmount"])):
            return "products do not add up to totalAmount"
        return ""

    def _pay(self, order: FakeOrder) -> Any:
        form = request.form
        method = form.get("method", "")
        failed = form.get("action") == "cancel"
        if not failed:
            error = self._payment_error(method, form)
            if error:
                return Response(self._page(order, error), mimetype="text/html", status=422)
            failed = (method == "blik" and form.get("blik_code") == DECLINED_BLIK) or (
                method == "card" and re.sub(r"\D", "", form.get("card_number", "")) == DECLINED_CARD)
        with self.lock:
            order.status = "CANCELED" if failed else "COMPLETED"
            order.paid_with = method
        if self.auto_notify:
            self.start_notifications(order.order_id, order.status)
        target = order.body.get("continueUrl") or "/"
        if failed:
            target += ("&" if "?" in target else "?") + "error=501"
        return redirect(target, code=302)

    @staticmethod
    def _payment_error(method: str, form: Any) -> str:
        if method == "blik":
            return "" if re.fullmatch(r"\d{6}", form.get("blik_code", "")) else "Kod BLIK ma 6 cyfr."
        if method == "pbl":
            return "" if form.get("bank") in dict(BANKS) else "Wybierz bank."
        if method == "card":
            digits = re.sub(r"\D", "", form.get("card_number", ""))
            return "" if 13 <= len(digits) <= 19 else "Podaj numer karty."
        return "Wybierz metodę płatności."

    def _page(self, order: FakeOrder, error: str, done: bool = False) -> str:
        """The fake PayU payment page (Polish, no scripts)."""
        b = order.body
        amount = int(str(b.get("totalAmount", "0")))
        hint = ((b.get("payMethods") or {}).get("payMethod") or {}).get("value", "")
        chosen = {"blik": "blik", "c": "card"}.get(hint, "pbl" if not hint else "")
        esc = html.escape
        if done:
            return (f"<!doctype html><html lang='pl'><head><meta charset='utf-8'><title>PayU (fake)</title></head>"
                    f"<body><h1>Zamówienie {esc(order.order_id)}</h1><p id='done'>Status: {esc(order.status)}</p>"
                    f"</body></html>")
        banks = "".join(f"<option value='{esc(c)}'>{esc(n)}</option>" for c, n in BANKS)

        def radio(value: str, label: str) -> str:
            checked = " checked" if value == chosen else ""
            return f"<label><input type='radio' name='method' value='{value}' id='m-{value}'{checked}> {label}</label>"

        return f"""<!doctype html><html lang="pl"><head><meta charset="utf-8"><title>PayU (fake)</title></head>
<body><h1>PayU: płatność (serwer testowy)</h1>
<p id="description">{esc(str(b.get("description", "")))}</p>
<p>Kwota: <strong id="amount">{amount // 100},{amount % 100:02d} {esc(str(b.get("currencyCode", "")))}</strong></p>
{f'<p id="error" role="alert">{esc(error)}</p>' if error else ''}
<form method="post">
<fieldset><legend>Metoda płatności</legend>
{radio("blik", "BLIK")} <label>Kod BLIK <input name="blik_code" id="blik_code" inputmode="numeric"></label><br>
{radio("pbl", "Szybki przelew")} <label>Bank <select name="bank" id="bank"><option value="">—</option>{banks}</select></label><br>
{radio("card", "Karta kredytowa")} <label>Numer karty <input name="card_number" id="card_number"></label>
</fieldset>
<button type="submit" name="action" value="pay" id="pay">Zapłać</button>
<button type="submit" name="action" value="cancel" id="cancel">Anuluj płatność</button>
</form></body></html>"""


@contextmanager
def running_fake_payu(fake: FakePayu | None = None, **kwargs: Any) -> Iterator[tuple[FakePayu, str]]:
    """Serve a fake on a free 127.0.0.1 port in a thread; yields (fake, base URL)."""
    fake = fake or FakePayu(**kwargs)
    server = make_server("127.0.0.1", 0, fake.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_port}"
    finally:
        fake.wait_notifications(timeout=15)
        server.shutdown()
        thread.join(timeout=5)


def main(argv: list[str] | None = None) -> None:
    """Run the fake standalone (``make run`` starts it for the demo company)."""
    parser = argparse.ArgumentParser(description="Local fake of PayU REST API v2.1")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5082)
    parser.add_argument("--pos-id", default="300746")
    parser.add_argument("--client-id", default="300746")
    parser.add_argument("--client-secret", default=os.environ.get("PAYU_CLIENT_SECRET", ""),
                        help="default: PAYU_CLIENT_SECRET from the environment (kept off the command line)")
    parser.add_argument("--second-key", default=os.environ.get("PAYU_SECOND_KEY", ""),
                        help="default: PAYU_SECOND_KEY from the environment")
    parser.add_argument("--delayed-seconds", type=float, default=5.0,
                        help="send the final notification once more after this many seconds (-1: never)")
    parser.add_argument("--notify-delay", type=float, default=2.0,
                        help="seconds between the buyer paying and the first notification")
    args = parser.parse_args(argv)
    if not args.client_secret or not args.second_key:
        parser.error("the client secret and the second key are required")
    fake = FakePayu(pos_id=args.pos_id, client_id=args.client_id, client_secret=args.client_secret,
                    second_key=args.second_key, delayed_seconds=args.delayed_seconds, notify_delay=args.notify_delay)
    print(f"fake PayU on http://{args.host}:{args.port} (POS {args.pos_id})", flush=True)
    make_server(args.host, args.port, fake.app, threaded=True).serve_forever()


if __name__ == "__main__":
    main()
