from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.urls import reverse
from django.utils import translation
from PIL import Image

from campaign.celery import app as celery_app
from projects.models import Photo, Project
from tests.factories import KeySpeciesFactory, ProjectFactory


@pytest.fixture(autouse=True)
def _media_and_eager_tasks(settings: Any, tmp_path: Any) -> Iterator[None]:
    """Uploads go to a temp dir; tasks run in-process unless a test starts a real worker."""
    settings.MEDIA_ROOT = tmp_path / "media"
    celery_app.conf.task_always_eager = True
    caches_clear()
    # Each test starts in English, whatever language the previous one's last request left
    # active in this thread (Django's LocaleMiddleware does not reset it after a response).
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
    caches_clear()


def caches_clear() -> None:
    from donations.services.ratelimit import local_windows

    for alias in caches:
        caches[alias].clear()
    local_windows.clear()


def jpeg_bytes(
    width: int = 1200, height: int = 800, colour: tuple[int, int, int] = (30, 90, 60)
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def make_project(db: None) -> Any:
    """A published project with its totals (tests/factories.py); overrides are its fields."""

    def make(**overrides: Any) -> Project:
        return ProjectFactory.create(**overrides)

    return make


@pytest.fixture
def project(make_project: Any) -> Project:
    p = make_project()
    KeySpeciesFactory.create(project=p, common_name="Andean Cat", iucn_category="EN")
    return p


def add_photo(project: Project, n: int = 0) -> Photo:
    from django.core.files.base import ContentFile

    photo = Photo(project=project, alt_text=f"photo {n}", caption=f"Caption {n}", credit="Credit")
    photo.image.save(f"p{n}.jpg", ContentFile(jpeg_bytes(400, 300)), save=True)
    return photo


WEBHOOK_SECRET = "whsec_test_suite_secret"


@pytest.fixture(scope="session")
def _fake_stripe_server() -> Iterator[Any]:
    from tests.stripe_fake import FakeStripe

    server = FakeStripe()
    yield server
    server.close()


@pytest.fixture
def fake_stripe(_fake_stripe_server: Any, settings: Any) -> Iterator[Any]:
    """Real stripe-python client against the recorded-response server."""
    _fake_stripe_server.reset()
    settings.PAYMENT_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_fake_key"
    settings.STRIPE_API_BASE = _fake_stripe_server.url
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    return _fake_stripe_server


def admin_login(client: Any, username: str, password: str) -> None:
    """Sign in through the admin's login form, as staff do (django-axes sees every attempt)."""
    response = client.post(
        reverse("admin:login"), {"username": username, "password": password, "next": "/"}
    )
    assert response.status_code == 302, response.content[:2000]


def visitor_token(client: Any) -> str:
    """This visitor's CSRF token as static/js/csrf.js fetches it: anonymous project pages are
    cached whole for every visitor and carry none (campaign/pagecache.py)."""
    return str(client.get("/csrf/").json()["token"])


@pytest.fixture
def no_keys(settings: Any) -> None:
    """The local test provider, and no Stripe: nothing listens at its address."""
    settings.PAYMENT_PROVIDER = "test"
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


@pytest.fixture
def seed(db: None, no_keys: None) -> Project:
    """The demo's seed project (load_demo), on the test provider."""
    from django.core.management import call_command

    from projects.services.demo import SEED_SLUG

    call_command("load_demo", stdout=io.StringIO())
    return Project.objects.get(slug=SEED_SLUG)
