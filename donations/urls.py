from django.urls import path

from donations import views

app_name = "donations"

urlpatterns = [
    path("projects/<slug:slug>/donate/", views.donate, name="donate"),
    path("projects/<slug:slug>/totals.json", views.project_totals_json, name="project_totals"),
    path("donations/<uuid:donation_id>/thanks/", views.thanks, name="thanks"),
    path("donations/<uuid:donation_id>/status.json", views.status_json, name="status"),
    path("donations/test-checkout/<str:session_id>/", views.test_checkout, name="test_checkout"),
    path("stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
