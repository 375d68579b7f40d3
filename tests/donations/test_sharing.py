"""Sharing: plain share links on the project and thank-you pages (no third-party script),
referral codes carried from a shared link into the gift, and the per-channel admin report."""

from __future__ import annotations

import html
import os
import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.db import connection, transaction
from django.test import Client
from djmoney.money import Money

from donations.models import Donation
from donations.selectors import share_channel_totals
from donations.services.seed import donation_insert_sql
from projects.models import Project
from projects.sharing import CHANNELS, referral_parse
from tests.conftest import WEBHOOK_SECRET
from tests.factories import DonationFactory, EditorFactory, FinanceStaffFactory
from tests.stripe_fake import signed_event

GIFT = {
    "preset": "50",
    "currency": "USD",
    "frequency": "one_time",
    "donor_name": "Ana",
    "donor_email": "ana@example.org",
}


def share_hrefs(page: str) -> dict[str, str]:
    links = re.findall(r'<a class="share-link share-(\w+)" href="([^"]+)"', page)
    return {channel: html.unescape(href) for channel, href in links}


def shared_urls(page: str) -> dict[str, str]:
    """The project address each share link carries (decoded from the service's URL)."""
    hrefs = share_hrefs(page)
    found = {}
    for channel, href in hrefs.items():
        match = re.search(r"https?://[^\s?]+\?ref=[\w-]+", unquote(href.split("?", 1)[1]))
        assert match, href
        found[channel] = match.group(0)
    copy = re.search(
        r'<input id="share-url" class="share-url" type="url" readonly value="([^"]+)"', page
    )
    assert copy
    found["link"] = html.unescape(copy.group(1))
    return found


def ref_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["ref"][0]


def give(
    client: Client, project: Project, fake_stripe: Any, capture: Any, **extra: str
) -> Donation:
    response = client.post(f"/projects/{project.slug}/donate/", {**GIFT, **extra})
    assert response.status_code == 303, response.content[:2000]
    donation = Donation.objects.order_by("-created_at").first()
    assert donation is not None
    session = fake_stripe.pay(donation.checkout_session_id)
    body, header = signed_event("checkout.session.completed", session, secret=WEBHOOK_SECRET)
    with capture(execute=True):
        r = client.post(
            "/stripe/webhook/",
            body,
            content_type="application/json",
            headers={"stripe-signature": header},
        )
    assert r.status_code == 200
    donation.refresh_from_db()
    return donation


def no_inline_script(page: str) -> None:
    """What the Content-Security-Policy allows: scripts from files, JSON data blocks."""
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S):
        if 'type="application/ld+json"' in attrs or 'type="application/json"' in attrs:
            continue
        assert 'src="/static/' in attrs and not body.strip(), attrs
    assert not re.search(r"<[^>]+\son[a-z]+=", page), "inline event handler"


def test_project_page_offers_plain_share_links_with_channel_codes(
    client: Client, project: Project, settings: Any
) -> None:
    settings.SITE_URL = "https://gifts.example.org"
    page = client.get(project.get_absolute_url()).content.decode()
    hrefs = share_hrefs(page)
    assert set(hrefs) == {"email", "whatsapp", "facebook", "x"}
    assert hrefs["email"].startswith("mailto:?subject=")
    assert hrefs["whatsapp"].startswith("https://wa.me/?text=")
    assert hrefs["facebook"].startswith("https://www.facebook.com/sharer/sharer.php?u=")
    assert hrefs["x"].startswith("https://x.com/intent/post?text=")
    urls = shared_urls(page)
    for channel, url in urls.items():
        assert url == f"https://gifts.example.org{project.get_absolute_url()}?ref={channel}"
    no_inline_script(page)
    assert '<script src="/static/js/share.js" defer></script>' in page
    assert "facebook.net" not in page and "platform.twitter.com" not in page


def test_thank_you_page_offers_share_links_with_the_donors_code(
    client: Client, project: Project, fake_stripe: Any, django_capture_on_commit_callbacks: Any
) -> None:
    donation = give(client, project, fake_stripe, django_capture_on_commit_callbacks)
    assert donation.status == Donation.Status.SUCCEEDED
    page = client.get(f"/donations/{donation.pk}/thanks/").content.decode()
    assert "Share this project" not in page  # its own heading, about the donor's gift
    assert "Tell your friends" in page
    urls = shared_urls(page)
    assert set(urls) == set(CHANNELS)
    donation.refresh_from_db()
    assert len(donation.share_code) == 8
    for channel, url in urls.items():
        assert ref_of(url) == f"{channel}-{donation.share_code}"
    no_inline_script(page)
    # The code is the gift's for good: the page shown again carries the same one.
    again = client.get(f"/donations/{donation.pk}/thanks/").content.decode()
    assert shared_urls(again) == urls


def test_a_failed_gift_offers_no_share_links(client: Client, project: Project) -> None:
    donation = DonationFactory.create(project=project, failed=True)
    page = client.get(f"/donations/{donation.pk}/thanks/").content.decode()
    assert share_hrefs(page) == {}
    donation.refresh_from_db()
    assert donation.share_code == ""


def test_a_gift_from_a_shared_link_carries_its_referral(
    client: Client, project: Project, fake_stripe: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sharer = give(client, project, fake_stripe, django_capture_on_commit_callbacks)
    client.get(f"/donations/{sharer.pk}/thanks/")
    sharer.refresh_from_db()
    code = f"whatsapp-{sharer.share_code}"
    # The friend opens the shared link: the donate form keeps the code.
    page = client.get(f"{project.get_absolute_url()}?ref={code}").content.decode()
    assert f'<input type="hidden" name="ref" value="{code}">' in page
    friend = give(client, project, fake_stripe, django_capture_on_commit_callbacks, ref=code)
    assert (friend.referral_channel, friend.referral_code) == ("whatsapp", code)
    assert sharer.referral_channel == ""


@pytest.mark.parametrize("bad", ["telegram", "whatsapp-<script>", "x-" + "a" * 30, "WHATSAPP--"])
def test_an_unknown_referral_is_ignored_and_the_gift_goes_ahead(
    client: Client, project: Project, fake_stripe: Any, bad: str
) -> None:
    page = client.get(project.get_absolute_url(), {"ref": bad}).content.decode()
    assert '<input type="hidden" name="ref" value="">' in page
    response = client.post(f"/projects/{project.slug}/donate/", {**GIFT, "ref": bad})
    assert response.status_code == 303
    donation = Donation.objects.get()
    assert (donation.referral_channel, donation.referral_code) == ("", "")


def test_referral_codes_are_read_strictly() -> None:
    assert referral_parse("facebook") is not None
    parsed = referral_parse(" Email-abcdefgh ")
    assert parsed is not None and (parsed.channel, parsed.share_code) == ("email", "abcdefgh")
    assert referral_parse("email-abcdefg") is None  # seven characters
    assert referral_parse("email-abcdefg0") is None  # 0 is not in the alphabet
    assert referral_parse("") is None and referral_parse(None) is None


def test_cancelling_checkout_keeps_the_referral(
    client: Client, project: Project, fake_stripe: Any
) -> None:
    client.post(f"/projects/{project.slug}/donate/", {**GIFT, "ref": "x"})
    [request] = [r for r in fake_stripe.requests if r["path"] == "/v1/checkout/sessions"]
    assert ref_of(request["params"]["cancel_url"].split("#")[0]) == "x"


# --- The admin report -----------------------------------------------------------------------


def test_admin_report_counts_gifts_and_money_per_channel(
    client: Client,
    project: Project,
    make_project: Any,
    fake_stripe: Any,
    django_capture_on_commit_callbacks: Any,
    admin_user: Any,
    settings: Any,
) -> None:
    cb = django_capture_on_commit_callbacks
    settings.DONATION_RATE_LIMIT_PER_EMAIL = settings.DONATION_RATE_LIMIT_PER_IP = "100/h"
    give(client, project, fake_stripe, cb, ref="whatsapp")
    give(client, project, fake_stripe, cb, ref="whatsapp-abcdefgh", preset="100")
    give(client, project, fake_stripe, cb, ref="email")
    give(client, project, fake_stripe, cb)  # not from a shared link
    client.post(f"/projects/{project.slug}/donate/", {**GIFT, "ref": "x"})  # never paid
    euros = make_project(cost=Money(1000, "EUR"), acres=100)
    give(client, euros, fake_stripe, cb, ref="whatsapp", currency="EUR")
    totals = {t.channel: t for t in share_channel_totals()}
    assert list(totals) == list(CHANNELS)
    assert (totals["whatsapp"].started, totals["whatsapp"].received) == (3, 3)
    assert totals["whatsapp"].money == [Money(50, "EUR"), Money(150, "USD")]
    assert (totals["email"].received, totals["email"].money) == (1, [Money(50, "USD")])
    assert (totals["x"].started, totals["x"].received, totals["x"].money) == (1, 0, [])
    assert totals["facebook"].started == 0

    staff = Client()
    staff.force_login(admin_user)
    page = staff.get("/admin/donations/sharedgift/")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.content.decode()))
    assert "WhatsApp 3 3 €50 $150" in text
    assert "Email 1 1 $50" in text
    assert "X 1 0 —" in text
    assert "All channels 5 4" in text
    # The gifts themselves are filtered by channel in the donations list.
    listed = staff.get("/admin/donations/donation/", {"referral_channel__exact": "email"})
    assert listed.status_code == 200 and "1 donation" in listed.content.decode()


def test_only_finance_and_superusers_see_the_report(db: None) -> None:
    editor, finance = EditorFactory.create(), FinanceStaffFactory.create()
    for user, status in [(editor, 403), (finance, 200)]:
        c = Client()
        c.force_login(user)
        assert c.get("/admin/donations/sharedgift/").status_code == status, user


@pytest.mark.django_db(transaction=True)  # VACUUM cannot run inside the test's transaction
def test_the_report_is_one_index_only_scan_at_scale(make_project: Any) -> None:
    """200,000 gifts, one in twenty from a shared link: the report reads the partial covering
    index alone, never the table."""
    project = make_project()
    if connection.vendor != "postgresql":
        if os.environ.get("CI"):
            pytest.fail("needs PostgreSQL (make test sets DATABASE_URL)")
        pytest.skip("PostgreSQL query plans")
    # Every column from the model (so new fields need no change here): computed ones from
    # the series, the rest at their defaults.
    computed = {
        "id": "md5(n::text)::uuid",
        "project_id": str(int(project.pk)),
        "status": "CASE WHEN n %% 3 = 0 THEN 'failed' ELSE 'succeeded' END",
        "amount": "50",
        "counted": "CASE WHEN n %% 3 = 0 THEN 0 ELSE 50 END",
        "created_at": "now()",
        "updated_at": "now()",
        "referral_channel": (
            "CASE WHEN n %% 20 = 0 THEN "
            "(ARRAY['email','whatsapp','facebook','x','link'])[1 + n %% 100 / 20] ELSE '' END"
        ),
    }
    sql, params = donation_insert_sql(computed, "generate_series(1, 200000) AS n")
    with transaction.atomic(), connection.cursor() as cur:
        # Seed rows, not gifts: no field-history or other triggers for them (seconds, not
        # minutes), as a bulk load would be done.
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute(sql, params)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE donations_donation")  # as autovacuum leaves it
    from donations.selectors import _share_channel_rows

    sql, sql_params = _share_channel_rows().query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute("EXPLAIN " + sql, sql_params)
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert "Index Only Scan using donation_referral_report" in plan, plan
    assert "Seq Scan" not in plan, plan
    totals = {t.channel: t for t in share_channel_totals()}
    assert sum(t.started for t in totals.values()) == 10_000


def test_a_gift_gets_one_share_code_even_from_a_stale_copy(project: Project) -> None:
    from donations.services.sharing import share_code_ensure

    donation = DonationFactory.create(project=project)
    stale = Donation.objects.get(pk=donation.pk)  # loaded before the code was made
    first = share_code_ensure(donation=donation)
    assert referral_parse(f"email-{first}") is not None
    # The second tab's copy has no code in memory: it reads the one already written.
    assert share_code_ensure(donation=stale) == first
    assert Donation.objects.get(pk=donation.pk).share_code == first
