from django.urls import path

from stewardship import feeds, views

app_name = "stewardship"

urlpatterns = [
    path("projects/<slug:slug>/updates/", views.update_list, name="list"),
    path("projects/<slug:slug>/updates/feed/", feeds.ProjectUpdatesFeed(), name="project_feed"),
    path(
        "projects/<slug:slug>/updates/<slug:update_slug>/",
        views.update_detail,
        name="detail",
    ),
    path("updates/feed/", feeds.SiteUpdatesFeed(), name="site_feed"),
    path("updates/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("my-gifts/updates/", views.my_gifts_choice, name="my_gifts_choice"),
]
