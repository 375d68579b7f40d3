"""The filters every export takes (paid dates, project, statuses, payout, currency, ledger
kinds), parsed once from a form or a command line, and applied by ``filters_apply``: the
date range in the charity's ``TIME_ZONE`` as whole days, the project and the currency."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Model, QuerySet

from donations.models import Donation, LedgerEntry, Payout
from projects.models import Project

S = Donation.Status
M = TypeVar("M", bound=Model)


class ExportError(Exception):
    """A bad filter or an export that cannot be made; the message says why."""


@dataclass(frozen=True)
class ExportFilters:
    date_from: date | None = None
    date_to: date | None = None
    project_id: int | None = None
    statuses: tuple[str, ...] = ()
    payout: str = ""
    currency: str = ""
    kinds: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("date_from", "date_to"):
            data[key] = data[key].isoformat() if data[key] else None
        data["statuses"] = list(self.statuses)
        data["kinds"] = list(self.kinds)
        return {k: v for k, v in data.items() if v not in (None, "", [])}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExportFilters:
        return cls(
            date_from=date.fromisoformat(data["date_from"]) if data.get("date_from") else None,
            date_to=date.fromisoformat(data["date_to"]) if data.get("date_to") else None,
            project_id=data.get("project_id"),
            statuses=tuple(data.get("statuses") or ()),
            payout=data.get("payout") or "",
            currency=data.get("currency") or "",
            kinds=tuple(data.get("kinds") or ()),
        )


def _date(raw: str, name: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ExportError(f"{name} {raw!r} is not a date: give it as YYYY-MM-DD") from None


def _list(raw: str | Iterable[str]) -> list[str]:
    if isinstance(raw, str):
        return [p.strip() for p in raw.split(",") if p.strip()]
    return [str(p).strip() for p in raw if str(p).strip()]


def filters_parse(
    *,
    date_from: str = "",
    date_to: str = "",
    project: str = "",
    status: str | Iterable[str] = "",
    payout: str = "",
    currency: str = "",
    kind: str | Iterable[str] = "",
) -> ExportFilters:
    """Filters from text (a command line or a form); ExportError says what is wrong."""
    start, end = _date(date_from, "--from"), _date(date_to, "--to")
    if start and end and start > end:
        raise ExportError(f"--from {start} is after --to {end}")
    project_id = None
    if (project or "").strip():
        ref = project.strip()
        match = Project.objects.filter(slug=ref).values_list("pk", flat=True).first()
        if match is None and ref.isdigit():
            match = Project.objects.filter(pk=int(ref)).values_list("pk", flat=True).first()
        if match is None:
            raise ExportError(f"No project {ref!r}: give its slug or its id")
        project_id = int(match)
    statuses = _list(status)
    wrong = [s for s in statuses if s not in S.values]
    if wrong:
        raise ExportError(f"Unknown status {', '.join(wrong)}: one of {', '.join(S.values)}")
    code = (currency or "").strip().upper()
    if code and code not in settings.CURRENCIES:
        raise ExportError(f"Unknown currency {currency!r}: one of {', '.join(settings.CURRENCIES)}")
    kinds = _list(kind)
    known_kinds = ledger_kinds()
    wrong = [k for k in kinds if k not in known_kinds]
    if wrong:
        raise ExportError(
            f"Unknown ledger kind {', '.join(wrong)}: one of {', '.join(known_kinds)}"
        )
    payout_id = (payout or "").strip()
    if payout_id and not payout_exists(payout_id):
        raise ExportError(f"No payout {payout_id!r}: give its Stripe id (po_…)")
    return ExportFilters(
        date_from=start,
        date_to=end,
        project_id=project_id,
        statuses=tuple(statuses),
        payout=payout_id,
        currency=code,
        kinds=tuple(kinds),
    )


def ledger_kinds() -> list[str]:
    return list(LedgerEntry.Kind.values)


def payout_exists(stripe_id: str) -> bool:
    return bool(Payout.objects.filter(stripe_id=stripe_id).exists())


def zone_name() -> str:
    return str(settings.TIME_ZONE)


def local_bounds(f: ExportFilters) -> tuple[datetime | None, datetime | None]:
    """The paid-date range as [start, end) instants: whole days in the charity's zone."""
    zone = ZoneInfo(zone_name())
    start = datetime.combine(f.date_from, datetime.min.time(), zone) if f.date_from else None
    end = (
        datetime.combine(f.date_to + timedelta(days=1), datetime.min.time(), zone)
        if f.date_to
        else None
    )
    return start, end


def filters_apply(
    qs: QuerySet[M],
    f: ExportFilters,
    *,
    moment: str,
    project: str | None = "project_id",
    currency: str = "amount_currency",
) -> QuerySet[M]:
    """The filters all exports share: ``moment`` (a timestamp field) within the paid dates,
    the project (``project=None`` when the caller relates projects its own way) and the
    currency. Statuses, payout and ledger kinds mean something different to each export
    and are applied by it."""
    start, end = local_bounds(f)
    if start:
        qs = qs.filter(**{f"{moment}__gte": start})
    if end:
        qs = qs.filter(**{f"{moment}__lt": end})
    if f.project_id and project:
        qs = qs.filter(**{project: f.project_id})
    if f.currency:
        qs = qs.filter(**{currency: f.currency})
    return qs
