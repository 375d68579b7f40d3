from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from campaign.views import favicon, healthz, how_gifts_are_used, media, robots_txt
from projects.sitemaps import SITEMAPS

handler500 = "campaign.views.server_error"

admin.site.site_header = "Conservation campaigns: staff"
admin.site.site_title = "Campaign admin"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="projects:list", permanent=False)),
    path("projects/", include("projects.urls")),
    path("", include("donations.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("how-your-gift-is-used/", how_gifts_are_used, name="how_gifts_are_used"),
    path("robots.txt", robots_txt, name="robots_txt"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
]


if settings.SERVE_MEDIA:
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", media)]
