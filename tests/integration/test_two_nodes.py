"""Two app nodes behind the shipped nginx config (campaign/nginx.conf's upstream, passive
failover): donors give while one gunicorn is SIGKILLed, with its whole process group, in the
middle of the load. No donor request fails, and every donor's gift succeeds exactly once.

nginx sends a GET that a dying node dropped, and any request a dead node refused, to the
other node. A donate POST carries the press's idempotency key (static/js/donate-key.js
writes it in the browser), so nginx may replay one the killed node swallowed: the other
node finds the gift that key started, if the first got as far as saving it, and answers
with its same Checkout Session (Stripe's idempotency key is the gift's id); else it starts
the gift afresh. The donor never sees an error and never has two gifts."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from donations.models import Donation
from projects.models import FundingTotals, Project
from tests.conftest import WEBHOOK_SECRET
from tests.integration import nginx_proc as nginx
from tests.integration.conftest import DONATE_FIELDS, Stack, wait_for
from tests.stripe_fake import FakeStripe, signed_event

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DONORS = 36
THREADS = 4
KILL_AFTER = 10  # donors finished when node 1 is killed
CHECKOUT = "https://checkout.stripe.com/c/pay/"


class Load:
    def __init__(self, base: str, slug: str, fake_stripe: FakeStripe) -> None:
        self.base, self.slug, self.fake_stripe = base, slug, fake_stripe
        self.lock = threading.Lock()
        self.failed: list[str] = []  # donor requests that did not get their answer
        self.webhook_retries = 0
        self.done = 0
        self.next_donor = 0

    def _take(self) -> int | None:
        with self.lock:
            if self.next_donor >= DONORS:
                return None
            self.next_donor += 1
            return self.next_donor

    def _fail(self, what: str) -> None:
        with self.lock:
            self.failed.append(what)

    def _donate(self, http: requests.Session, email: str) -> str | None:
        """The page, this visitor's token, the form post; the checkout session's id."""
        page = http.get(f"{self.base}/projects/{self.slug}/", timeout=30)
        if page.status_code != 200:
            self._fail(f"GET page {page.status_code}")
            return None
        csrf = http.get(f"{self.base}/csrf/", timeout=30)
        if csrf.status_code != 200:
            self._fail(f"GET /csrf/ {csrf.status_code}")
            return None
        fields = {**DONATE_FIELDS, "donor_email": email, "idempotency_key": str(uuid.uuid4())}
        posted = http.post(
            f"{self.base}/projects/{self.slug}/donate/",
            data={**fields, "csrfmiddlewaretoken": csrf.json()["token"]},
            allow_redirects=False,
            timeout=30,
        )
        location = posted.headers.get("Location", "")
        if posted.status_code == 303 and location.startswith(CHECKOUT):
            return location.removeprefix(CHECKOUT)
        self._fail(f"POST donate {posted.status_code} {posted.text[:200]}")
        return None

    def _webhook(self, session_id: str) -> None:
        with self.lock:  # the fake's objects are shared by every thread
            session = self.fake_stripe.pay(session_id)
        body, header = signed_event("checkout.session.completed", session, secret=WEBHOOK_SECRET)
        for _ in range(5):  # Stripe retries a delivery that did not get a 2xx
            response = requests.post(
                f"{self.base}/stripe/webhook/",
                data=body.encode(),
                headers={"Content-Type": "application/json", "Stripe-Signature": header},
                timeout=30,
            )
            if response.status_code == 200:
                return
            with self.lock:
                self.webhook_retries += 1
            time.sleep(0.5)
        self._fail(f"webhook {response.status_code}")

    def donor_loop(self) -> None:
        while (n := self._take()) is not None:
            http = requests.Session()
            try:
                session_id = self._donate(http, f"donor{n}@example.org")
                if session_id:
                    self._webhook(session_id)
            except requests.RequestException as exc:
                self._fail(f"donor {n}: {exc!r}")
            with self.lock:
                self.done += 1
            time.sleep(random.uniform(0, 0.05))


def test_one_node_killed_mid_load_no_donor_fails_no_gift_lost_or_doubled(
    stack: Stack, project: Project, fake_stripe: FakeStripe, tmp_path: Path
) -> None:
    tmp = tmp_path
    env = stack.env(DONATION_RATE_LIMIT_PER_IP="10000/h", DONATION_RATE_LIMIT_PER_EMAIL="100/h")
    node1 = stack.gunicorn(env).removeprefix("http://")
    victim = stack.procs[-1]
    node2 = stack.gunicorn(env).removeprefix("http://")
    stack.worker(env)
    base, _ = nginx.start(
        stack,
        tmp / "nginx",
        [node1, node2],
        static_root=nginx.collected_static(tmp / "static"),
        media_root=tmp,
    )
    load = Load(base, project.slug, fake_stripe)
    threads = [threading.Thread(target=load.donor_loop) for _ in range(THREADS)]
    for t in threads:
        t.start()
    wait_for(lambda: load.done >= KILL_AFTER, timeout=120, what=f"{KILL_AFTER} donors")
    stack.kill(victim)  # SIGKILL, master and workers: whatever it was doing is cut
    killed_at = load.done
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    assert killed_at < DONORS, "the kill came after the load: nothing was tested"

    assert load.failed == [], load.failed
    wait_for(
        lambda: Donation.objects.filter(status=Donation.Status.SUCCEEDED).count() >= DONORS,
        timeout=120,
        what="every gift to succeed",
        diagnostics=stack.diagnostics,
    )
    succeeded = Counter(
        Donation.objects.filter(status=Donation.Status.SUCCEEDED).values_list(
            "donor_email", flat=True
        )
    )
    assert len(succeeded) == DONORS and set(succeeded.values()) == {1}, succeeded
    # No press of Donate was lost or made a second gift, replayed or not.
    assert not Donation.objects.exclude(status=Donation.Status.SUCCEEDED).exists()
    totals = FundingTotals.objects.get(project=project)
    assert totals.raised.amount == Decimal(50 * DONORS)
    assert totals.gift_count == DONORS
    print(  # noqa: T201 - the report's figures
        f"two nodes: {DONORS} donors, node killed after {killed_at}, "
        f"webhook redeliveries {load.webhook_retries}"
    )
