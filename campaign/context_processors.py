from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def site(request: HttpRequest) -> dict[str, object]:
    from projects.seo import site_meta

    return {
        "ORGANISATION_NAME": settings.ORGANISATION_NAME,
        "ORGANISATION_REGISTRATION": settings.ORGANISATION_REGISTRATION,
        "ORGANISATION_TWITTER": settings.ORGANISATION_TWITTER,
        "TEST_PAYMENTS": settings.PAYMENT_PROVIDER == "test",
        # Pages that pass no `meta` of their own describe the organisation.
        "meta": SimpleLazyObject(
            lambda: site_meta(title=settings.ORGANISATION_NAME, path=request.path)
        ),
    }
