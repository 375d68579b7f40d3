"""The fake's HTTP server and object store: requests decoded and checked as Stripe does,
objects returned with ``expand[]`` applied, lists paged, failures and delays on demand."""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from donations.providers.stripe_objects import expanded, list_page, refund_movements
from tests.stripe_fake.rules import RESOURCES, refusal
from tests.stripe_fake.shapes import _invalid, new_id, recording


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (a[b][0][c]=x) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        if node and all(k.isdigit() for k in node):
            return [_lists(node[k]) for k in sorted(node, key=int)]
        return {k: _lists(v) for k, v in node.items()}
    return node


class FakeStripeServer:
    """Stripe's API on a local port, answering from the objects stored here."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.seq = 0  # insertion order, for lists
        self.lists: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
        self.requests: list[dict[str, Any]] = []
        self.failures: dict[str, list[int]] = defaultdict(list)
        self.delays: dict[str, float] = {}
        self.idempotent: dict[str, dict[str, Any]] = {}
        self.failed_events: list[dict[str, Any]] = []
        # Rendered GET answers by (id, expand): Stripe's CPU is not ours, so the benchmarks
        # should not pay for deep copies and JSON encoding here. Any write clears it.
        self.rendered: dict[tuple[str, tuple[str, ...]], bytes] = {}
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Stripe
            disable_nagle_algorithm = True  # headers and body are two writes

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def do_DELETE(self) -> None:
                fake._handle(self, "DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self.lock:
            self.objects.clear()
            self.requests.clear()
            self.failures.clear()
            self.delays.clear()
            self.idempotent.clear()
            self.failed_events.clear()
            self.rendered.clear()
            self.lists.clear()

    # --- behaviour switches -------------------------------------------------------------
    def fail_next(self, path_prefix: str, *statuses: int) -> None:
        """The next requests whose path starts with path_prefix answer these statuses."""
        self.failures[path_prefix].extend(statuses)

    def delay(self, path_prefix: str, seconds: float) -> None:
        self.delays[path_prefix] = seconds

    # --- objects ------------------------------------------------------------------------
    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.seq += 1
            self.objects[obj["id"]] = {**copy.deepcopy(obj), "_seq": self.seq}
            self.rendered.clear()
            self.lists.clear()
        return obj

    def get(self, object_id: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.objects[object_id])

    def update(self, object_id: str, **changes: Any) -> dict[str, Any]:
        with self.lock:
            self.objects[object_id].update(changes)
            self.rendered.clear()
            self.lists.clear()
            return copy.deepcopy(self.objects[object_id])

    def _expanded(self, obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
        return expanded(obj, paths, self.objects.get)  # Stripe's expand, shared with the app

    # --- HTTP ---------------------------------------------------------------------------
    def _send(self, h: BaseHTTPRequestHandler, status: int, body: dict[str, Any] | bytes) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.send_header("Request-Id", new_id("req"))
        if status == 429:
            h.send_header("Stripe-Should-Retry", "false")
        h.end_headers()
        h.wfile.write(data)

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        path = parts.path
        query = parse_qsl(parts.query)
        body = b""
        if method == "POST":
            body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        params = decode_form(query + parse_qsl(body.decode()))
        with self.lock:
            self.requests.append(
                {
                    "method": method,
                    "path": path,
                    "params": params,
                    "idempotency_key": h.headers.get("Idempotency-Key"),
                    "stripe_version": h.headers.get("Stripe-Version"),
                    "authorization": h.headers.get("Authorization"),
                }
            )
            failure = None
            for prefix, statuses in self.failures.items():
                if path.startswith(prefix) and statuses:
                    failure = statuses.pop(0)
                    break
            delay = next((s for p, s in self.delays.items() if path.startswith(p)), 0.0)
        if delay:
            time.sleep(delay)
        if failure:
            kind = "rate_limit_error" if failure == 429 else "api_error"
            self._send(h, failure, {"error": {"type": kind, "message": f"fake {failure}"}})
            return
        refused = self._refusal(method, path, params)
        if refused:
            self._send(h, 400, _invalid(refused, "parameter_unknown"))
            return
        if method == "POST" and path == "/v1/checkout/sessions":
            self._send(h, 200, self._session_create(params, h.headers.get("Idempotency-Key")))
            return
        if method == "DELETE" and path.startswith("/v1/subscriptions/"):
            # Cancel a subscription now, as Stripe's DELETE does (no body, no parameters).
            with self.lock:
                sub = self.objects.get(path.rsplit("/", 1)[1])
                if sub is not None and sub.get("status") != "canceled":
                    sub.update(status="canceled", canceled_at=int(time.time()))
                    self.rendered.clear()
            if sub is None:
                self._send(h, 404, _invalid("No such subscription", "resource_missing"))
            else:
                self._send(h, 200, sub)
            return
        if method == "POST" and path == "/v1/billing_portal/sessions":
            session = {
                "id": new_id("bps"),
                "object": "billing_portal.session",
                "customer": params["customer"],
                "return_url": params.get("return_url"),
                "locale": params.get("locale"),
                "url": f"https://billing.stripe.com/p/session/{new_id('test')}",
            }
            self._send(h, 200, session)
            return
        if method == "POST" and path == "/v1/refunds":
            status, answer = self._refund_create(params, h.headers.get("Idempotency-Key"))
            self._send(h, status, answer)
            return
        if method == "GET" and path in {"/v1/balance_transactions", "/v1/payouts"}:
            self._send(h, *self._list(path, params))
            return
        if method == "GET" and path == "/v1/events":
            with self.lock:
                events = list(self.failed_events)
            try:
                page = list_page(
                    events,
                    url=path,
                    limit=int(params.get("limit", 10)),
                    starting_after=params.get("starting_after"),
                )
            except KeyError:
                self._send(h, 400, _invalid("starting_after names no event", "resource_missing"))
                return
            self._send(h, 200, page)
            return
        for resource in RESOURCES:
            prefix = f"/v1/{resource}/"
            if method == "GET" and path.startswith(prefix):
                object_id = path[len(prefix) :]
                expand = params.get("expand") or []
                paths = tuple(expand if isinstance(expand, list) else [expand])
                with self.lock:
                    rendered = self.rendered.get((object_id, paths))
                    obj = self.objects.get(object_id) if rendered is None else None
                    if obj is not None:
                        rendered = json.dumps(self._expanded(obj, list(paths))).encode()
                        self.rendered[(object_id, paths)] = rendered
                if rendered is None:
                    self._send(
                        h,
                        404,
                        {
                            "error": {
                                "type": "invalid_request_error",
                                "code": "resource_missing",
                                "message": f"No such object: '{object_id}'",
                            }
                        },
                    )
                else:
                    self._send(h, 200, rendered)
                return
        self._send(h, 404, {"error": {"type": "invalid_request_error", "message": "no route"}})

    def _refusal(self, method: str, path: str, params: dict[str, Any]) -> str | None:
        roots = {
            ("GET", "/v1/balance_transactions"): "list:balance_transaction",
            ("GET", "/v1/payouts"): "list:payout",
            ("GET", "/v1/events"): "list:event",
            ("POST", "/v1/refunds"): "refund",
            ("POST", "/v1/checkout/sessions"): "checkout.session",
        }
        if (method, path) in roots:
            return refusal(path, roots[(method, path)], params)
        with self.lock:
            obj = self.objects.get(path.rsplit("/", 1)[-1]) if method == "GET" else None
        return refusal("retrieve", str(obj["object"]), params) if obj else None

    def _session_create(self, params: dict[str, Any], key: str | None) -> dict[str, Any]:
        with self.lock:
            if key and key in self.idempotent:
                return self.idempotent[key]
        session = recording("checkout_session")
        price = params["line_items"][0]["price_data"]
        session.update(
            id=new_id("cs"),
            mode=params["mode"],
            submit_type=params.get("submit_type"),
            amount_total=int(price["unit_amount"]),
            amount_subtotal=int(price["unit_amount"]),
            currency=price["currency"],
            client_reference_id=params.get("client_reference_id"),
            customer_email=params.get("customer_email"),
            metadata=params.get("metadata", {}),
            success_url=params["success_url"],
            cancel_url=params["cancel_url"],
            created=int(time.time()),
        )
        session["url"] = f"https://checkout.stripe.com/c/pay/{session['id']}"
        session["_subscription_metadata"] = (params.get("subscription_data") or {}).get(
            "metadata", {}
        )
        self.put(session)
        with self.lock:
            if key:
                self.idempotent[key] = session
        return session

    def _refund_create(self, params: dict[str, Any], key: str | None) -> tuple[int, dict[str, Any]]:
        with self.lock:
            if key and key in self.idempotent:
                return 200, self.idempotent[key]
            charge = self.objects.get(params.get("charge", ""))
            if charge is None:
                return 404, _invalid(
                    f"No such charge: '{params.get('charge')}'", "resource_missing"
                )
            remaining = charge["amount"] - (charge.get("amount_refunded") or 0)
            amount = int(params.get("amount", remaining))
            bt_id = charge.get("balance_transaction")
            try:
                refund, bt, changes = refund_movements(
                    charge,
                    self.objects.get(bt_id) if isinstance(bt_id, str) else None,
                    amount,
                    refund_id=new_id("re"),
                    txn_id=new_id("txn"),
                    now=int(time.time()),
                )
            except ValueError as exc:
                return 400, _invalid(str(exc), "amount_too_large")
            base = recording("refund")
            base.update(refund, metadata=params.get("metadata") or {})
            self.objects[bt["id"]] = bt
            self.objects[base["id"]] = base
            charge.update(changes)
            self.rendered.clear()
            self.lists.clear()
            expand = params.get("expand") or []
            answer = self._expanded(base, expand if isinstance(expand, list) else [expand])
            if key:
                self.idempotent[key] = answer
        return 200, answer

    def _list(self, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """A page of balance transactions of a payout, or of payouts (newest first)."""
        payout = params.get("payout")
        since = int((params.get("created") or {}).get("gte", 0))
        key = (path, str(payout), since)
        with self.lock:
            items = self.lists.get(key)
            if items is None:  # filtered and sorted once per list; any write clears it
                if path == "/v1/balance_transactions":
                    items = [
                        o
                        for o in self.objects.values()
                        if o.get("object") == "balance_transaction"
                        and o.get("_payout") == payout
                        and o.get("type") != "payout"
                    ]
                else:
                    items = [
                        o
                        for o in self.objects.values()
                        if o.get("object") == "payout" and o["created"] >= since
                    ]
                items.sort(key=lambda o: (-int(o.get("created") or 0), -o.get("_seq", 0)))
                self.lists[key] = items
            try:
                page = list_page(
                    items,
                    url=path,
                    limit=int(params.get("limit", 10)),
                    starting_after=params.get("starting_after"),
                )
            except KeyError:
                return 400, _invalid(
                    "starting_after names no object in this list", "resource_missing"
                )
            expand = params.get("expand") or []
            paths = [
                e.removeprefix("data.") for e in (expand if isinstance(expand, list) else [expand])
            ]
            page["data"] = [self._expanded(o, paths) for o in page["data"]]
        return 200, page

    def payout(
        self,
        balance_ids: list[str],
        *,
        automatic: bool = True,
        method: str = "standard",
        reconciliation_status: str = "completed",
        status: str = "paid",
        amount: int | None = None,
    ) -> dict[str, Any]:
        """A payout of these balance transactions (its amount their net, unless given)."""
        payout_id = new_id("po")
        with self.lock:
            lines = [self.objects[i] for i in balance_ids]
            for line in lines:
                line["_payout"] = payout_id
            self.rendered.clear()
            self.lists.clear()
        total = sum(int(line["net"]) for line in lines) if amount is None else amount
        payout = recording("payout")
        payout.update(
            id=payout_id,
            amount=total,
            currency=lines[0]["currency"] if lines else "usd",
            automatic=automatic,
            method=method,
            reconciliation_status=reconciliation_status,
            status=status,
            created=int(time.time()),
            arrival_date=int(time.time()) + 86400,
        )
        return self.put(payout)

    def balance_line(self, **fields: Any) -> dict[str, Any]:
        """A balance transaction of no gift (Stripe's own fees, an adjustment...)."""
        bt = recording("balance_transaction")
        bt.update(id=new_id("txn"), fee=0, fee_details=[], exchange_rate=None)
        bt.update(created=int(time.time()), **fields)
        if "net" not in fields:
            bt["net"] = bt["amount"] - bt["fee"]
        return self.put(bt)
