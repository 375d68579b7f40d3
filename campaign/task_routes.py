"""Which Celery queue each task goes to (settings' CELERY_TASK_ROUTES); the rest use the
default queue, "celery"."""

# Email has its own queue so a slow mail server never delays money events (and vice versa).
# Workers consume both unless scaled separately: celery -A campaign worker -Q celery,email
TASK_ROUTES = {
    "donations.tasks.receipt_send": {"queue": "email"},
    "donations.tasks.tribute_notice_send": {"queue": "email"},
    "donations.tasks.sign_in_link_send": {"queue": "email"},
    "donations.tasks.receipt_resend": {"queue": "email"},
    "donations.tasks.payment_failed_notice_send": {"queue": "email"},
    "donations.tasks.receipts_catch_up": {"queue": "email"},
    "finance.tasks.statement_run": {"queue": "email"},
    "stewardship.tasks.update_send_chunk": {"queue": "email"},
    "stewardship.tasks.updates_resume": {"queue": "email"},
}
