"""Spanish alongside English: URLs, negotiation, the switcher, formats, content translation,
the gift's language (Checkout locale, receipt) and the catalogue itself."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from donations.models import Donation
from projects.models import Project
from projects.services.demo import SEED_SLUG
from projects.services.demo_es import TITLE as SPANISH_TITLE
from tests.conftest import visitor_token

ROOT = Path(__file__).resolve().parents[2]
SEED_TITLE = "Securing the Cornerstone of Andes-Amazon Conservation Corridor"


def _html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def _token(body: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    assert match
    return match.group(1)


def test_spanish_pages_of_the_seed_project(seed: Project) -> None:
    page = _html(Client().get(f"/es/projects/{SEED_SLUG}/"))
    assert '<html lang="es">' in page
    assert f"<h1>{SPANISH_TITLE}</h1>" in page
    assert '<button type="submit" class="donate-button">Donar</button>' in page
    assert "Rana de cristal de Trueb" in page and "Nymphargus truebae" in page  # names kept
    assert "Hábitat y especies" in page and "Minería ilegal de oro" in page
    # The share links too: heading, labels, the shared sentence (the WhatsApp text), and the
    # copy button's status line (written by share.js from the page's strings).
    assert "Comparte este proyecto" in page and "O copia el enlace" in page
    assert "Copiar el enlace" in page and "se abre en una pestaña nueva" in page
    assert ">Correo electrónico<" in page and "Ayuda%20a%20proteger%20285.288%20acres" in page
    assert '"Link copied.": "Enlace copiado."' in page
    assert "Share this project" not in page and "Help%20protect" not in page
    # Money and numbers as Spanish writes them (CLDR): 303.600 US$, 1,17 US$, 285.288.
    # CLDR puts a no-break space between the amount and the symbol.
    assert "303.600\xa0US$" in page and "1,17\xa0US$ por acre" in page
    assert "285.288 acres" in page
    # Figures that scripts read stay machine-readable, whatever the language.
    assert 'data-acres="285288.00"' in page and 'data-fee-percent="2.9"' in page
    assert 'data-match-pools="1.00:50000.00"' in page
    # The form posts to the Spanish URL so the gift is made in Spanish.
    assert f'action="/es/projects/{SEED_SLUG}/donate/"' in page
    listing = _html(Client().get("/es/projects/"))
    assert SPANISH_TITLE in listing and "Protege tierras para la vida silvestre" in listing
    sheet = _html(Client().get(f"/es/projects/{SEED_SLUG}/fact-sheet/"))
    assert '<html lang="es">' in sheet and "Datos clave" in sheet


def test_english_stays_at_the_unprefixed_urls(seed: Project) -> None:
    page = _html(Client().get(f"/projects/{SEED_SLUG}/"))
    assert '<html lang="en">' in page and f"<h1>{SEED_TITLE}</h1>" in page
    assert ">Donate</button>" in page and "$303,600" in page


@pytest.mark.parametrize("header", ["es", "es-PE,es;q=0.9,en;q=0.5", "fr-FR,es;q=0.8"])
def test_accept_language_is_honoured_on_the_first_visit(seed: Project, header: str) -> None:
    response = Client().get(f"/projects/{SEED_SLUG}/", headers={"accept-language": header})
    page = _html(response)
    assert '<html lang="es">' in page and SPANISH_TITLE in page and ">Donar</button>" in page
    assert response["Content-Language"] == "es"
    vary = {v.strip().lower() for v in response["Vary"].split(",")}
    assert {"accept-language", "cookie"} <= vary  # a shared cache must not mix languages
    assert "private" in response["Cache-Control"]  # /es/... is the shareable address
    assert "X-Accel-Expires" not in response  # which nginx would obey over "private"
    assert "private" not in Client().get(f"/es/projects/{SEED_SLUG}/").get("Cache-Control", "")


def test_english_accept_language_and_unknown_languages_get_english(seed: Project) -> None:
    for header in ["en-GB,en;q=0.9", "de-DE", ""]:
        page = _html(Client().get(f"/projects/{SEED_SLUG}/", headers={"accept-language": header}))
        assert '<html lang="en">' in page, header


def test_the_switcher_remembers_the_choice_over_accept_language(seed: Project) -> None:
    client = Client(enforce_csrf_checks=True, headers={"accept-language": "es"})
    page = _html(client.get(f"/projects/{SEED_SLUG}/"))
    assert 'data-testid="language-en"' in page  # the other language is offered
    response = client.post(
        "/i18n/setlang/",
        {
            "language": "en",
            "next": f"/es/projects/{SEED_SLUG}/",
            "csrfmiddlewaretoken": visitor_token(client),
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/projects/{SEED_SLUG}/"
    # Remembered: the browser still prefers Spanish, the cookie says English.
    page = _html(client.get(f"/projects/{SEED_SLUG}/"))
    assert '<html lang="en">' in page and SEED_TITLE in page
    response = client.post(
        "/i18n/setlang/",
        {
            "language": "es",
            "next": f"/projects/{SEED_SLUG}/",
            "csrfmiddlewaretoken": visitor_token(client),
        },
    )
    assert response["Location"] == f"/es/projects/{SEED_SLUG}/"
    assert "Donar" in _html(client.get(f"/projects/{SEED_SLUG}/"))


def test_hreflang_alternates_name_both_languages(seed: Project) -> None:
    for url in [f"/projects/{SEED_SLUG}/", f"/es/projects/{SEED_SLUG}/"]:
        page = _html(Client().get(url))
        assert (
            f'<link rel="alternate" hreflang="en" href="http://testserver/projects/{SEED_SLUG}/">'
            in page
        )
        assert (
            f'<link rel="alternate" hreflang="es" '
            f'href="http://testserver/es/projects/{SEED_SLUG}/">' in page
        )
        assert 'hreflang="x-default"' in page


def test_root_and_unknown_prefixed_urls(seed: Project) -> None:
    assert Client().get("/es/").headers["Location"] == "/es/projects/"
    assert Client().get("/projects/").status_code == 200
    assert Client().get("/fr/projects/").status_code == 404
    # The webhook and health URLs stay unprefixed.
    assert Client().get("/healthz").status_code in {200, 503}


def test_missing_spanish_text_falls_back_to_english(make_project: Any) -> None:
    project = make_project(title="Only English", habitat="Dry forest")
    page = _html(Client().get(f"/es/projects/{project.slug}/"))
    assert "<h1>Only English</h1>" in page and "Dry forest" in page
    assert ">Donar</button>" in page  # the interface is still Spanish
    project.title_es = "Solo inglés no más"
    project.save()
    assert "<h1>Solo inglés no más</h1>" in _html(Client().get(f"/es/projects/{project.slug}/"))
    assert "<h1>Only English</h1>" in _html(Client().get(f"/projects/{project.slug}/"))


def test_the_thermometer_fragment_is_cached_per_language(seed: Project) -> None:
    english = _html(Client().get(f"/projects/{SEED_SLUG}/"))
    spanish = _html(Client().get(f"/es/projects/{SEED_SLUG}/"))
    english_again = _html(Client().get(f"/projects/{SEED_SLUG}/"))
    assert "raised of" in english and "raised of" in english_again
    assert "recaudados de" in spanish and "raised of" not in spanish


def test_spanish_form_errors_and_decimal_comma(seed: Project) -> None:
    client = Client()
    _html(client.get(f"/es/projects/{SEED_SLUG}/"))
    base = {
        "csrfmiddlewaretoken": visitor_token(client),
        "currency": "USD",
        "frequency": "one_time",
        "donor_name": "Rosa",
        "donor_email": "rosa@example.org",
    }
    response = client.post(f"/es/projects/{SEED_SLUG}/donate/", {**base, "preset": "other"})
    assert response.status_code == 400
    assert "Elige un monto o escribe el tuyo." in response.content.decode()
    response = client.post(
        f"/es/projects/{SEED_SLUG}/donate/",
        {**base, "preset": "other", "custom_amount": "0,50"},
    )
    assert "La donación mínima es de 1 USD." in response.content.decode()
    response = client.post(
        f"/es/projects/{SEED_SLUG}/donate/",
        {**base, "preset": "other", "custom_amount": "1.234,50"},
    )
    assert response.status_code == 303
    assert Donation.objects.get().amount.amount == Decimal("1234.50")


def _give(
    client: Client, prefix: str, email: str, on_commit: Any, frequency: str = "one_time"
) -> Donation:
    _html(client.get(f"{prefix}/projects/{SEED_SLUG}/"))
    response = client.post(
        f"{prefix}/projects/{SEED_SLUG}/donate/",
        {
            "csrfmiddlewaretoken": visitor_token(client),
            "preset": "50",
            "currency": "USD",
            "frequency": frequency,
            "donor_name": "Rosa Huamán",
            "donor_email": email,
            "tribute_type": "memory",
            "tribute_name": "Abuelo Tomás",
            "tribute_notify_email": f"family-{email}",
        },
    )
    assert response.status_code == 303
    checkout = response["Location"]
    assert checkout.startswith(f"{prefix}/donations/test-checkout/")
    checkout_page = _html(client.get(checkout))
    with on_commit(execute=True):
        response = client.post(
            checkout, {"outcome": "succeed", "csrfmiddlewaretoken": _token(checkout_page)}
        )
    assert response.status_code == 303
    return Donation.objects.get(donor_email=email)


def test_a_gift_made_in_spanish_is_receipted_in_spanish(
    seed: Project, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    donation = _give(client, "/es", "rosa@example.org", django_capture_on_commit_callbacks)
    assert donation.language == "es" and donation.status == Donation.Status.SUCCEEDED
    from donations.providers import provider

    session = provider().session_get(donation.checkout_session_id or "")  # type: ignore[attr-defined]
    assert session["locale"] == "es"  # Checkout opens in Spanish
    assert session["success_url"].endswith(f"/es/donations/{donation.pk}/thanks/")
    receipt = next(m for m in mail.outbox if m.to == ["rosa@example.org"])
    assert receipt.subject == f"Gracias por tu donación a {SPANISH_TITLE}"
    assert "Estimado/a Rosa Huamán:" in receipt.body
    assert "Monto: 50\xa0US$" in receipt.body
    assert "Dedicada en memoria de Abuelo Tomás" in receipt.body
    assert re.search(
        r"Fecha: \d{1,2} de [a-z]+ de \d{4}", str(receipt.body)
    )  # 1 de diciembre de 2026
    assert f"/es/projects/{SEED_SLUG}/" in receipt.body
    html_part = receipt.alternatives[0][0]  # type: ignore[attr-defined]
    assert '<html lang="es">' in str(html_part)
    notice = next(m for m in mail.outbox if m.to == ["family-rosa@example.org"])
    assert (
        notice.subject == f"Una donación para proteger {SPANISH_TITLE}, en memoria de Abuelo Tomás"
    )
    assert "Hola:" in notice.body
    thanks = _html(client.get(f"/es/donations/{donation.pk}/thanks/"))
    assert "¡Gracias, Rosa Huamán!" in thanks and "Confirmada" in thanks
    assert "Cuéntaselo a tus amistades" in thanks and "Acabo%20de%20donar" in thanks
    assert "Tell your friends" not in thanks and "I%20just%20gave" not in thanks


def test_a_gift_made_in_english_is_receipted_in_english(
    seed: Project, django_capture_on_commit_callbacks: Any
) -> None:
    donation = _give(Client(), "", "ann@example.org", django_capture_on_commit_callbacks)
    assert donation.language == "en"
    receipt = next(m for m in mail.outbox if m.to == ["ann@example.org"])
    assert receipt.subject == f"Thank you for your gift to {SEED_TITLE}"
    assert "Amount: $50" in receipt.body


def test_stripe_checkout_is_asked_for_the_gifts_locale(fake_stripe: Any, make_project: Any) -> None:
    project = make_project()
    client = Client()
    _html(client.get(f"/es/projects/{project.slug}/"))
    response = client.post(
        f"/es/projects/{project.slug}/donate/",
        {
            "csrfmiddlewaretoken": visitor_token(client),
            "preset": "50",
            "currency": "USD",
            "frequency": "one_time",
            "donor_name": "Rosa",
            "donor_email": "rosa@example.org",
        },
    )
    assert response.status_code == 303
    created = [r for r in fake_stripe.requests if r["path"] == "/v1/checkout/sessions"]
    assert created[-1]["params"]["locale"] == "es"
    assert created[-1]["params"]["line_items"][0]["price_data"]["product_data"]["name"] == (
        f"Donación a {project.title}"
    )
    assert created[-1]["params"]["success_url"].startswith("http://testserver/es/donations/")


def test_the_admin_edits_both_languages_side_by_side_and_marks_missing_spanish(
    admin_client: Client, make_project: Any
) -> None:
    project = make_project(title="Only English")
    page = _html(admin_client.get(f"/admin/projects/project/{project.pk}/change/"))
    assert 'name="title_en"' in page and 'name="title_es"' in page
    assert "Missing in Spanish" in page and "title" in page
    listing = _html(admin_client.get("/admin/projects/project/"))
    assert "missing" in listing


def test_the_demo_project_has_every_text_in_spanish(seed: Project) -> None:
    from projects.services.translations import missing_translations

    assert missing_translations(seed, "es") == []
    with translation.override("es"):
        seed.refresh_from_db()
        assert seed.title == SPANISH_TITLE and seed.country == "Perú"
        assert seed.place == "Kosñipata Valley"  # a proper name: not translated


def _untranslated(message: Any) -> bool:
    """No translation, or (a plural) any of its forms without one."""
    if isinstance(message.string, tuple | list):
        return not all(message.string)
    return not message.string


def test_the_catalogue_holds_every_string_the_code_marks(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """makemessages over the sources (into a copy of the catalogue) finds nothing new: no
    marked string reaches a Spanish page untranslated because nobody refreshed the .po."""
    # In a copy of the sources: makemessages writes to the locale folder beside them.
    tree = tmp_path / "tree"
    for name in ("campaign", "donations", "projects", "templates", "static", "locale"):
        shutil.copytree(ROOT / name, tree / name, ignore=shutil.ignore_patterns("*.mo"))
    copy = tree / "locale" / "es" / "LC_MESSAGES"
    settings.LOCALE_PATHS = [str(tree / "locale")]
    monkeypatch.chdir(tree)
    call_command("makemessages", locale=["es"], no_obsolete=True, verbosity=0)
    with (copy / "django.po").open("rb") as f:
        refreshed = read_po(f)
    missing = [m.id for m in refreshed if m.id and (_untranslated(m) or m.fuzzy)]
    assert missing == [], "run `make makemessages`, translate these, then `make messages`"


def test_the_spanish_catalogue_is_complete_and_compiled() -> None:
    po = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"
    with po.open("rb") as f:
        catalogue = read_po(f)
    untranslated = [m.id for m in catalogue if m.id and _untranslated(m)]
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []
    mo = po.with_suffix(".mo")
    assert mo.exists(), "make test compiles the catalogue (make messages)"
    assert mo.stat().st_mtime >= po.stat().st_mtime, "the compiled catalogue is out of date"
    with translation.override("es"):
        assert translation.gettext("Donate") == "Donar"
