from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView
from django.views.i18n import set_language

from campaign.views import (
    csrf_token,
    favicon,
    healthz,
    how_gifts_are_used,
    media,
    robots_txt,
)
from projects.sitemaps import SITEMAPS
from stewardship.sitemaps import UpdateSitemap

handler500 = "campaign.views.server_error"

admin.site.site_header = _("Conservation campaigns: staff")
admin.site.site_title = _("Campaign admin")

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("robots.txt", robots_txt, name="robots_txt"),
    path(
        "sitemap.xml",
        sitemap,
        {"sitemaps": {**SITEMAPS, "updates": UpdateSitemap}},
        name="sitemap",
    ),
    path("csrf/", csrf_token, name="csrf_token"),
    # The language switcher posts here; it sets the language cookie and returns the visitor
    # to the same page in the chosen language.
    path("i18n/setlang/", set_language, name="set_language"),
]

# English at the unprefixed URLs, Spanish under /es/. The webhook and status URLs resolve
# without a prefix too (Stripe and the thank-you page's script call them there).
urlpatterns += i18n_patterns(
    path("", RedirectView.as_view(pattern_name="projects:list", permanent=False)),
    path("projects/", include("projects.urls")),
    path("", include("donations.urls")),
    path("", include("stewardship.urls")),
    path("how-your-gift-is-used/", how_gifts_are_used, name="how_gifts_are_used"),
    prefix_default_language=False,
)

if settings.SERVE_MEDIA:
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", media)]
