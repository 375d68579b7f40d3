"""The finance desk in the Django admin, one module per page. Importing this package (the
admin's autodiscovery does, after ``donations.admin``) registers the desk's admins; the
donations, payouts and pools admins are the money model's, extended here."""

from finance.admin import (  # noqa: F401 - each module registers its admin
    action_log,
    desk,
    donations,
    offline,
    payouts,
    refunds,
    statements,
)
