"""What a donor gets after the gift: project updates, who each was emailed to, and the
donors' choices about update emails (the consent record)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects.models import Project
from projects.services.sanitize import html_sanitize


class Update(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        PUBLISHED = "published", _("Published")

    class Audience(models.TextChoices):
        DONORS = "donors", _("The project's donors")
        NOBODY = "nobody", _("Nobody (publish on the site only)")

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public")
        DONORS = "donors", _("Donors only until a date")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="updates")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120)
    body = models.TextField(help_text="Rich text (HTML); unsafe markup is removed on save.")
    photo = models.ImageField(upload_to="updates/photos/", blank=True)
    photo_renditions = models.JSONField(default=dict, blank=True, editable=False)
    photo_width = models.PositiveIntegerField(default=0, editable=False)
    photo_height = models.PositiveIntegerField(default=0, editable=False)
    photo_alt = models.CharField("photo alt text", max_length=250, blank=True)
    photo_credit = models.CharField(max_length=200, blank=True)
    legal_status = models.CharField(
        "the land's legal status",
        max_length=160,
        blank=True,
        help_text='Optional, shown under the progress figures: "proposed", "decree signed".',
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    audience = models.CharField(max_length=8, choices=Audience.choices, default=Audience.DONORS)
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    public_from = models.DateField(
        null=True,
        blank=True,
        help_text="Donors only until this date; the daily task makes it public on the day.",
    )
    publish_on = models.DateField(
        null=True, blank=True, help_text="Scheduled: the daily task publishes it on this date."
    )
    published_at = models.DateTimeField(null=True, blank=True)
    # Raised, matched, donors and acres as they stood at publishing (the email and the page
    # show the figures the update was written about, not today's).
    progress = models.JSONField(default=dict, blank=True, editable=False)
    emails_queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Moved by every chunk of the fan-out; a fan-out whose heartbeat stopped is resumed.
    sending_heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    last_editor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[models.Manager[Update]] = models.Manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "slug"], name="update_slug_per_project"),
            models.CheckConstraint(
                condition=~models.Q(visibility="donors") | models.Q(public_from__isnull=False),
                name="update_donors_only_has_date",
            ),
        ]
        indexes = [
            # A project's latest updates (its page, its list, its feed, the admin's column).
            models.Index(fields=["project", "status", "published_at"], name="update_project"),
            # The site's feed and the sitemap.
            models.Index(fields=["status", "published_at"], name="update_site"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(
            "stewardship:detail", kwargs={"slug": self.project.slug, "update_slug": self.slug}
        )

    def is_public(self, today: Any = None) -> bool:
        """Published and visible to anyone (a donors-only update is, from its date)."""
        if self.status != self.Status.PUBLISHED:
            return False
        if self.visibility == self.Visibility.PUBLIC:
            return True
        today = today or timezone.localdate()
        return self.public_from is not None and self.public_from <= today


@receiver(pre_save, sender=Update)
def update_body_sanitize(sender: type[Update], instance: Update, **kwargs: Any) -> None:
    # As project sections (projects.models.section_body_sanitize): every write path, every
    # language; unsafe HTML is never stored.
    for language, _name in settings.LANGUAGES:
        name = f"body_{language}"
        value = getattr(instance, name, None)
        if value:
            setattr(instance, name, html_sanitize(value))


class Delivery(models.Model):
    """One email of one update to one address: made once (unique on the pair), sent once."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    class Skip(models.TextChoices):
        NONE = "", _("Not skipped")
        OPTED_OUT = "opted_out", _("Opted out")
        ERASED = "erased", _("Erased (no gift any more)")
        BOUNCED = "bounced", _("Bounced before")

    update = models.ForeignKey(Update, on_delete=models.CASCADE, related_name="deliveries")
    email = models.EmailField()
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    skip_reason = models.CharField(max_length=10, choices=Skip.choices, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[models.Manager[Delivery]] = models.Manager()

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["update", "email"], name="delivery_once_per_address")
        ]
        indexes = [
            # The fan-out's next chunk (queued, in id order) and the counts by status.
            models.Index(fields=["update", "status", "id"], name="delivery_next"),
        ]

    def __str__(self) -> str:
        return f"{self.update_id}: {self.get_status_display()}"


class UpdateConsent(models.Model):
    """A donor's choice about update emails, kept as the consent record: rows are only
    added, never changed (the latest row for an address and scope is the choice in force).
    ``project`` empty means every project's updates. Receipts are not affected."""

    class Source(models.TextChoices):
        ONE_CLICK = "one_click", _("One-click unsubscribe (mail client)")
        LINK_PAGE = "link_page", _("Unsubscribe page")
        MY_GIFTS = "my_gifts", _("My gifts")
        BOUNCE = "bounce", _("Bounce from the mail server")

    email = models.EmailField()
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    subscribed = models.BooleanField()
    source = models.CharField(max_length=10, choices=Source.choices)
    created_at = models.DateTimeField(default=timezone.now)

    objects: ClassVar[models.Manager[UpdateConsent]] = models.Manager()

    class Meta:
        indexes = [models.Index(fields=["email", "created_at"], name="consent_email")]

    def __str__(self) -> str:
        scope = self.project_id or "all"
        return f"{self.email} {scope}: {'in' if self.subscribed else 'out'} ({self.source})"
