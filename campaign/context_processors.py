from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    return {
        "ORGANISATION_NAME": settings.ORGANISATION_NAME,
        "ORGANISATION_REGISTRATION": settings.ORGANISATION_REGISTRATION,
        "TEST_PAYMENTS": settings.PAYMENT_PROVIDER == "test",
    }
