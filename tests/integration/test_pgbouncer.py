"""Gunicorn and a real Celery worker through a real PgBouncer in transaction pooling
(tests/integration/pgbouncer.py): the giving walk, a refund, a payout, the exports of each
kind and a statement run, at sizes where the streaming reads fetch more than one chunk."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.files.base import ContentFile
from django.utils import timezone
from djmoney.money import Money
from openpyxl import load_workbook

from donations.models import Donation, LedgerEntry, Payout
from donations.services.seed import gifts_seed
from donations.services.statements import financial_year_of
from finance.models import ExportJob, StatementRun, StatementSent
from projects.models import FundingTotals, Photo, Project
from tests.conftest import WEBHOOK_SECRET, add_photo, jpeg_bytes
from tests.donations.event_helpers import charge_of, fresh
from tests.factories import STAFF_PASSWORD, StaffFactory
from tests.integration.conftest import ROOT, Stack, donate_over_http, post_webhook, wait_for
from tests.integration.pgbouncer import PgBouncer, pgbouncer_start
from tests.integration.test_database_restart import _send
from tests.stripe_fake import FakeStripe, signed_event

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bouncer(stack: Stack, tmp_path: Path) -> PgBouncer:
    return pgbouncer_start(stack, tmp_path)  # stopped with the stack's processes


def _through(stack: Stack, bouncer: PgBouncer, **extra: str) -> dict[str, str]:
    """The processes' environment: the database through PgBouncer, as production runs it."""
    return stack.env(
        DATABASE_URL=bouncer.url, PGBOUNCER="true", EMAIL_URL="consolemail://", **extra
    )


def test_a_statement_run_of_more_donors_than_one_fetch(
    stack: Stack, bouncer: PgBouncer, project: Project
) -> None:
    """Before: statement_donors iterated a server-side cursor in autocommit (WITH HOLD); the
    FETCH after the DECLARE landed on another server connection: 'cursor does not exist'."""
    gifts_seed(project, 2050, tag="stmt")
    year = financial_year_of(timezone.now())
    # Most donors had theirs already (the run skips them), so the run is short but its
    # donor list is longer than one fetch of 2,000.
    StatementSent.objects.bulk_create(
        StatementSent(donor_email=f"stmt{g}@example.org", year=year, sent_to="x@example.org")
        for g in range(1, 2046)
    )
    env = _through(stack, bouncer)
    worker = stack.worker(env)
    run = StatementRun.objects.create(year=year)
    before = bouncer.transactions()
    _send("finance.tasks.statement_run", run.pk)

    def finished() -> bool:
        run.refresh_from_db()
        if "raised unexpected" in worker.log.read_text(errors="replace"):
            pytest.fail(f"the statement run failed\n{stack.diagnostics()}")
        return run.status in {StatementRun.Status.DONE, StatementRun.Status.FAILED}

    wait_for(finished, timeout=90, what="the statement run", diagnostics=stack.diagnostics)
    assert run.status == StatementRun.Status.DONE, run.error
    assert (run.total, run.sent, run.skipped) == (2050, 5, 2045)
    sent = StatementSent.objects.filter(year=year, run=run)
    assert sorted(sent.values_list("donor_email", flat=True)) == [
        f"stmt{g}@example.org" for g in range(2046, 2051)
    ]
    assert "stmt2050@example.org" in worker.log.read_text(errors="replace")
    assert bouncer.transactions() - before > 2050  # the worker's work went through PgBouncer


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """A management command as an operator runs it (same environment: through PgBouncer)."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _deliver(base: str, kind: str, obj: dict[str, Any]) -> None:
    body, header = signed_event(kind, obj, secret=WEBHOOK_SECRET)
    response = post_webhook(base, body, header)
    assert response.status_code == 200, response.text


def test_giving_walk_refund_and_payout_through_pgbouncer(
    stack: Stack, bouncer: PgBouncer, project: Project, fake_stripe: FakeStripe, tmp_path: Path
) -> None:
    env = _through(stack, bouncer)
    base = stack.gunicorn(env)
    worker = stack.worker(env)

    # The walk: the donate form, the recorded Checkout, Stripe's signed event, the receipt.
    donate_over_http(base, project.slug)
    donation = Donation.objects.get()
    assert donation.checkout_session_id
    _deliver(base, "checkout.session.completed", fake_stripe.pay(donation.checkout_session_id))

    def receipted() -> bool:
        d = fresh(donation)
        return d.status == Donation.Status.SUCCEEDED and d.receipt_sent_at is not None

    wait_for(receipted, timeout=30, what="the gift and its receipt", diagnostics=stack.diagnostics)
    assert "ana@example.org" in worker.log.read_text(errors="replace")  # the console mail
    assert FundingTotals.objects.get(project=project).raised.amount == Decimal(50)

    # A refund of $15, told by Stripe.
    charge = charge_of(fake_stripe, donation.checkout_session_id)
    refunded = fake_stripe.refund(charge["id"], 1500)
    _deliver(base, "charge.refunded", refunded)
    wait_for(
        lambda: fresh(donation).refunded.amount == Decimal(15),
        timeout=30,
        what="the refund",
        diagnostics=stack.diagnostics,
    )
    assert FundingTotals.objects.get(project=project).raised.amount == Decimal(35)

    # A payout of the gift, its refund and 2,100 of Stripe's own fees: more lines than one
    # fetch of the journal's cursor.
    refund_bt = fake_stripe.get(fake_stripe.get(refunded["_refunds"][0])["balance_transaction"])
    fees = [
        fake_stripe.balance_line(amount=-1, currency="usd", type="stripe_fee", source=None)
        for _ in range(2100)
    ]
    ids = [charge["balance_transaction"], refund_bt["id"], *(f["id"] for f in fees)]
    payout = fake_stripe.payout(ids)
    _deliver(base, "payout.paid", payout)
    _deliver(base, "payout.reconciliation_completed", payout)

    def reconciled() -> Payout | None:
        stored = Payout.objects.filter(stripe_id=payout["id"]).first()
        return stored if stored and stored.lines_status != Payout.Lines.AWAITING else None

    stored = wait_for(
        reconciled, timeout=60, what="the payout's lines", diagnostics=stack.diagnostics
    )
    assert (stored.lines_status, stored.line_count) == (Payout.Lines.RECONCILED, len(ids))
    assert stored.amount.amount > 0

    # Its journal, by the command through PgBouncer, balances and carries the bank line.
    out = tmp_path / "journal.csv"
    done = _manage(
        env, "export_journal", "--journal", "quickbooks", "--payout", payout["id"], "-o", str(out)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    debits = sum(Decimal(r["Debits"] or 0) for r in lines)
    credit_total = sum(Decimal(r["Credits"] or 0) for r in lines)
    assert debits == credit_total > 0
    bank = [r for r in lines if r["Account Name"] == "Business Bank Account"]
    assert [Decimal(r["Debits"]) for r in bank] == [stored.amount.amount]
    check = _manage(env, "reconcile_check")
    assert check.returncode == 0, check.stdout + check.stderr


def _sign_in(base: str, username: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{base}/admin/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text[:2000]
    signed_in = http.post(
        f"{base}/admin/login/?next=/admin/",
        data={
            "username": username,
            "password": STAFF_PASSWORD,
            "csrfmiddlewaretoken": token.group(1),
            "next": "/admin/",
        },
        headers={"Referer": f"{base}/admin/login/"},
        timeout=30,
    )
    assert signed_in.status_code == 200 and "sessionid" in http.cookies, signed_in.text[:2000]
    http.headers["X-CSRFToken"] = http.cookies["csrftoken"]
    http.headers["Referer"] = f"{base}/admin/"
    return http


def _sheet_rows(content: bytes) -> int:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    assert sheet is not None
    return sum(1 for _ in sheet.iter_rows())


def test_exports_of_each_kind_through_pgbouncer(
    stack: Stack, bouncer: PgBouncer, project: Project, tmp_path: Path
) -> None:
    gifts_seed(project, 2200, tag="exp")
    now = timezone.now()
    # Offline gifts in the ledger: more month-end lines than one fetch of 2,000.
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            kind=LedgerEntry.Kind.OFFLINE_GIFT,
            reference=f"offline-{n}",
            project=project,
            amount=Money(Decimal(10), "USD"),
            project_amount=Decimal(10),
            occurred_at=now,
        )
        for n in range(2100)
    )
    StaffFactory.create(username="fiona", groups=["Finance"])
    # Web and worker share the export folder; more than 2,150 rows go to the worker.
    env = _through(stack, bouncer, EXPORT_ROOT=str(tmp_path / "exports"), EXPORT_ASYNC_ROWS="2150")
    base = stack.gunicorn(env)
    stack.worker(env)
    http = _sign_in(base, "fiona")
    url = f"{base}/admin/donations/financedesk/exports/"

    # The ledger (2,100 rows): a direct download, streamed by gunicorn.
    ledger = http.post(url, data={"kind": "ledger", "format": "xlsx"}, timeout=120)
    assert ledger.status_code == 200, ledger.text[:2000]
    assert _sheet_rows(ledger.content) == 2101

    # The donations (2,200): a background job the worker writes, downloaded from the web.
    queued = http.post(
        url, data={"kind": "donations", "format": "xlsx"}, allow_redirects=False, timeout=60
    )
    assert queued.status_code == 302, queued.text[:2000]
    job = ExportJob.objects.get()
    wait_for(
        lambda: ExportJob.objects.filter(pk=job.pk, status="done").exists(),
        timeout=90,
        what="the background export",
        diagnostics=stack.diagnostics,
    )
    download = http.get(f"{base}{queued.headers['Location']}download/", timeout=60)
    assert download.status_code == 200
    assert _sheet_rows(download.content) == 2201

    # The journal from the page: the month-end journal of the offline gifts, balanced.
    journal = http.post(
        url, data={"kind": "journal", "format": "csv", "journal": "xero"}, timeout=120
    )
    assert journal.status_code == 200, journal.text[:2000]
    amounts = [
        Decimal(r["*Amount"]) for r in csv.DictReader(journal.text.lstrip("\ufeff").splitlines())
    ]
    assert sum(amounts) == 0 and sum(a for a in amounts if a > 0) == Decimal(21000)

    # The commands, each through PgBouncer.
    for command, fmt, rows in (
        ("export_donations", "csv", 2200),
        ("export_ledger", "xlsx", 2100),
    ):
        out = tmp_path / f"{command}.{fmt}"
        done = _manage(env, command, "--format", fmt, "-o", str(out))
        assert done.returncode == 0, done.stdout + done.stderr
        if fmt == "csv":
            assert len(out.read_text(encoding="utf-8").splitlines()) == rows + 1
        else:
            assert _sheet_rows(out.read_bytes()) == rows + 1
    out = tmp_path / "journal-qb.csv"
    done = _manage(env, "export_journal", "--journal", "quickbooks", "-o", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert sum(Decimal(r["Debits"] or 0) for r in lines) == Decimal(21000)
    assert sum(Decimal(r["Credits"] or 0) for r in lines) == Decimal(21000)


SHOW_DATABASE = (
    "from django.conf import settings; d = settings.DATABASES['default']; "
    "print(d['CONN_MAX_AGE'], d['DISABLE_SERVER_SIDE_CURSORS'])"
)


def test_settings_and_a_command_that_writes_as_it_reads(
    stack: Stack, bouncer: PgBouncer, project: Project
) -> None:
    """Before: renditions_refresh iterated its projects and photos with .iterator() in
    autocommit: 'cursor does not exist' behind PgBouncer."""
    project.hero_image.save("hero.jpg", ContentFile(jpeg_bytes()), save=True)
    photo = add_photo(project)
    Photo.objects.filter(pk=photo.pk).update(renditions={})
    Project.objects.filter(pk=project.pk).update(hero_renditions={})
    env = _through(stack, bouncer)
    done = _manage(env, "renditions_refresh")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Rebuilt 1 hero image(s) and 1 photo(s)." in done.stdout
    photo.refresh_from_db()
    project.refresh_from_db()
    assert "webp" in photo.renditions and "social" in project.hero_renditions

    shown = _manage(env, "shell", "-v", "0", "-c", SHOW_DATABASE)
    assert shown.stdout.split() == ["0", "False"], shown.stderr
    env = _through(stack, bouncer, DATABASE_DISABLE_SERVER_SIDE_CURSORS="true", CONN_MAX_AGE="5")
    shown = _manage(env, "shell", "-v", "0", "-c", SHOW_DATABASE)
    assert shown.stdout.split() == ["5", "True"], shown.stderr
