from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


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
    path("", include("campaign.urls")),
]
