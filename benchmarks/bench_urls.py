from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

# The site's patterns joined in, not include()d: they hold i18n_patterns, which only a root
# URLconf may.
from campaign.urls import handler500
from campaign.urls import urlpatterns as site_urlpatterns


@csrf_exempt
def trivial(request: HttpRequest) -> HttpResponse:
    """Same server, same middleware, no work: the ingestion benchmark's baseline."""
    return HttpResponse(b"ok", content_type="text/plain")


def baseline_html(request: HttpRequest) -> HttpResponse:
    """The Lighthouse benchmark's baseline: a page with nothing on it, same server."""
    return HttpResponse(
        b'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        b'<meta name="viewport" content="width=device-width, initial-scale=1">'
        b"<title>Baseline</title></head><body><main><h1>Baseline</h1>"
        b"<p>A page with nothing on it.</p></main></body></html>",
        content_type="text/html; charset=utf-8",
    )


urlpatterns = [
    path("bench/trivial/", trivial),
    path("bench/baseline.html", baseline_html),
    *site_urlpatterns,
]
__all__ = ["handler500", "urlpatterns"]
