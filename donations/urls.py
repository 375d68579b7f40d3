from django.urls import path

from donations import views, views_donor

app_name = "donations"

urlpatterns = [
    path("projects/<slug:slug>/donate/", views.donate, name="donate"),
    path("projects/<slug:slug>/totals.json", views.project_totals_json, name="project_totals"),
    path("projects/<slug:slug>/quote.json", views.gift_quote_json, name="gift_quote"),
    path("donations/<uuid:donation_id>/thanks/", views.thanks, name="thanks"),
    path("donations/<uuid:donation_id>/status.json", views.status_json, name="status"),
    path("donations/test-checkout/<str:session_id>/", views.test_checkout, name="test_checkout"),
    path("stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
    path("my-gifts/", views_donor.my_gifts, name="my_gifts"),
    path("my-gifts/sign-in/", views_donor.sign_in_request, name="my_gifts_sign_in"),
    path("my-gifts/enter/<str:token>/", views_donor.my_gifts_enter, name="my_gifts_enter"),
    path("my-gifts/sign-out/", views_donor.sign_out, name="my_gifts_sign_out"),
    path(
        "my-gifts/receipts/<uuid:donation_id>/",
        views_donor.receipt,
        name="my_gifts_receipt",
    ),
    path(
        "my-gifts/receipts/<uuid:donation_id>/resend/",
        views_donor.receipt_resend,
        name="my_gifts_receipt_resend",
    ),
    path("my-gifts/statements/<int:year>/", views_donor.statement, name="my_gifts_statement"),
    path(
        "my-gifts/monthly/<uuid:donation_id>/manage/",
        views_donor.monthly_manage,
        name="my_gifts_manage",
    ),
    path(
        "donations/test-portal/<str:session_id>/",
        views_donor.test_portal,
        name="test_portal",
    ),
]
