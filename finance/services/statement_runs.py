"""The year-end statement run: every donor with a gift in a financial year is emailed
their statement (built by ``donations.services.statements``) once; a re-send is an explicit
desk action. Progress is kept on the run's row."""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from donations.locks import advisory_xact_lock
from donations.models import Donation
from donations.services import enqueue
from donations.services.receipt_numbers import statement_number_take
from donations.services.statements import (
    financial_year_label,
    statement_build,
    statement_render,
    year_gifts,
)
from finance.models import FinanceAction, StatementRun, StatementSent
from finance.services.action_log import Actor, action_record

STATEMENT_RUN = "finance.tasks.statement_run"


def statement_donors(year: int) -> list[str]:
    """Every donor (lower-case email) with a gift in the year, in email order; gifts with
    no address (an offline gift recorded without one) have no statement to send.

    Read in one transaction: its server-side cursor is then declared WITHOUT HOLD and every
    fetch goes to the same server connection behind PgBouncer's transaction pooling (in
    autocommit, a fetch after the first chunk could land on another and find no cursor)."""
    emails = (
        Donation.objects.filter(year_gifts(year))
        .annotate(email_lower=Lower("donor_email"))
        .exclude(email_lower="")
        .values_list("email_lower", flat=True)
        .order_by("email_lower")
        .distinct()
    )
    with transaction.atomic():
        return [e for e in emails.iterator(chunk_size=2000) if e.strip()]


def statement_send(
    *, donor_email: str, year: int, run_id: int | None = None, to: str = "", resend: bool = False
) -> bool:
    """Email one donor's statement unless it went out already (``resend`` sends it again,
    to ``to`` or the donor). Returns True when this call sent it, counting only a message
    that left for an address (Django's mail returns 0 for a message with no recipient, and
    that was once recorded as sent). An advisory lock per donor and year keeps two runs
    from sending it twice."""
    email = donor_email.strip().lower()
    if not email:
        return False
    with transaction.atomic():
        advisory_xact_lock("statement", email, year)
        sent = StatementSent.objects.filter(donor_email=email, year=year).first()
        if sent is not None and not resend:
            return False
        statement = statement_build(donor_email=email, year=year)
        if statement.is_empty:
            return False
        address = to.strip() or email
        # Numbered in this transaction: a send that fails takes its number back (no gap);
        # a re-send keeps the first number.
        number = sent.number if sent is not None and sent.number else ""
        statement.number = number or statement_number_take(year=year)
        subject, text, html = statement_render(statement)
        message = EmailMultiAlternatives(subject=subject, body=text, to=[address])
        message.attach_alternative(html, "text/html")
        if not message.send():
            return False
        now = timezone.now()
        if sent is None:
            StatementSent.objects.create(
                donor_email=email,
                year=year,
                run_id=run_id,
                sent_to=address,
                last_sent_at=now,
                number=statement.number,
            )
        else:
            StatementSent.objects.filter(pk=sent.pk).update(
                sent_to=address,
                resent_count=sent.resent_count + 1,
                last_sent_at=now,
                number=statement.number,
            )
        return True


def statement_run_execute(*, run_id: int) -> None:
    """Send a year's statements, recording progress on the run every few donors."""
    run = StatementRun.objects.get(pk=run_id)
    if run.status == StatementRun.Status.DONE:
        return
    donors = statement_donors(run.year)
    StatementRun.objects.filter(pk=run_id).update(
        status=StatementRun.Status.RUNNING, total=len(donors), done=0
    )
    sent = skipped = 0
    try:
        for n, email in enumerate(donors, start=1):
            if statement_send(donor_email=email, year=run.year, run_id=run_id):
                sent += 1
            else:
                skipped += 1
            if n % 20 == 0 or n == len(donors):
                StatementRun.objects.filter(pk=run_id).update(done=n, sent=sent, skipped=skipped)
    except Exception as exc:
        StatementRun.objects.filter(pk=run_id).update(
            status=StatementRun.Status.FAILED,
            error=str(exc)[:2000],
            sent=sent,
            skipped=skipped,
            done=F("done"),
        )
        raise
    StatementRun.objects.filter(pk=run_id).update(
        status=StatementRun.Status.DONE,
        done=len(donors),
        sent=sent,
        skipped=skipped,
        finished_at=timezone.now(),
    )


def statement_run_start(*, year: int, actor: Actor) -> StatementRun:
    """Start sending a financial year's statements in the background (recorded as the
    actor's action); the run's row shows its progress."""
    with transaction.atomic():
        run = StatementRun.objects.create(year=year, requested_by_id=getattr(actor, "pk", None))
        action_record(
            FinanceAction.Kind.STATEMENT_RUN,
            actor,
            f"Statements for {financial_year_label(year)} started",
            target=f"statement_run:{run.pk}",
            detail={"year": year},
        )
        enqueue.enqueue_on_commit(STATEMENT_RUN, run.pk)
    return run


def statement_resend(*, donor_email: str, year: int, to: str, actor: Actor) -> bool:
    """Send one donor's statement again (to ``to`` or the donor); False when the donor has
    no gifts in that year."""
    if not statement_send(donor_email=donor_email, year=year, to=to, resend=True):
        return False
    action_record(
        FinanceAction.Kind.STATEMENT_RESEND,
        actor,
        f"Statement {financial_year_label(year)} re-sent",
        target=f"donor:{donor_email.lower()}",
        detail={"year": year, "to": to or donor_email},
    )
    return True
