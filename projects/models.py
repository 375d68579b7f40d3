from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField
from djmoney.money import Money

from projects.services.sanitize import html_sanitize

SQ_FT_PER_ACRE = 43_560
CENT = Decimal("0.01")
WHOLE_ACRES_FROM = 10  # a gift protecting 10 acres or more is shown in whole acres


class ProjectQuerySet(models.QuerySet["Project"]):
    def published(self) -> ProjectQuerySet:
        return self.filter(status=Project.Status.PUBLISHED)


class Project(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        ARCHIVED = "archived", _("Archived")

    class AfterGoal(models.TextChoices):
        KEEP_ACCEPTING = "keep", _("Keep accepting gifts")
        CLOSE_FORM = "close", _("Close the donate form")

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    summary = models.TextField(help_text="Plain text; paragraphs separated by a blank line.")

    place = models.CharField(max_length=120, help_text="e.g. Kosñipata Valley")
    region = models.CharField(max_length=120, blank=True)
    country = models.CharField(max_length=80)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)

    cost = MoneyField(
        max_digits=14,
        decimal_places=2,
        default_currency="USD",
        help_text="The project's total financial need.",
    )
    acres = models.DecimalField(
        max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    price_per_acre_override = MoneyField(
        max_digits=10,
        decimal_places=2,
        default_currency="USD",
        null=True,
        blank=True,
        help_text="Leave empty to show cost ÷ acres. Set only when the published figure differs.",
    )

    habitat = models.CharField(max_length=300, blank=True)
    conservation_action = models.CharField(max_length=200, blank=True)
    main_threat = models.CharField("main threat summary", max_length=200, blank=True)
    partner_name = models.CharField("local partner", max_length=120, blank=True)
    partner_url = models.URLField("local partner website", blank=True)
    carbon_storage_mt = models.DecimalField(
        "total carbon storage (Mt CO2)",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )

    hero_image = models.ImageField(upload_to="projects/hero/", blank=True)
    hero_renditions = models.JSONField(default=dict, blank=True, editable=False)
    hero_width = models.PositiveIntegerField(default=0, editable=False)
    hero_height = models.PositiveIntegerField(default=0, editable=False)
    hero_alt = models.CharField("hero photo alt text", max_length=250, blank=True)
    hero_caption = models.CharField(max_length=300, blank=True)
    hero_credit = models.CharField(max_length=200, blank=True)

    published_at = models.DateTimeField(null=True, blank=True)
    after_goal = models.CharField(
        "gifts after the goal is reached",
        max_length=5,
        choices=AfterGoal.choices,
        default=AfterGoal.KEEP_ACCEPTING,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "title"]
        permissions = [
            (
                "change_project_money",
                "Can change a project's cost, currency, acres, price per acre and after-goal policy",
            )
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(acres__gt=0), name="project_acres_positive"),
            models.CheckConstraint(condition=models.Q(cost__gt=0), name="project_cost_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("projects:detail", kwargs={"slug": self.slug})

    @property
    def currency(self) -> str:
        return str(self.cost.currency)

    @property
    def computed_price_per_acre(self) -> Money:
        return Money((self.cost.amount / self.acres).quantize(CENT, ROUND_HALF_UP), self.currency)

    @property
    def price_per_acre(self) -> Money:
        if self.price_per_acre_override is not None:
            return self.price_per_acre_override
        return self.computed_price_per_acre

    @property
    def price_override_deviation(self) -> Decimal | None:
        """How far the override is from cost ÷ acres, as a fraction (0.10 = 10 %)."""
        if self.price_per_acre_override is None:
            return None
        computed = self.cost.amount / self.acres
        return abs(self.price_per_acre_override.amount - computed) / computed

    def acres_for(self, amount: Decimal) -> Decimal:
        """Acres a gift protects at the price per acre the page shows (the override when staff
        set one), so every figure a donor reads agrees: whole acres from 10, else tenths.
        Never more than the project's acres. The page says "about" (it rounds).
        The rule lives here only: the page's script shows what the server computed with it
        (projects.views.acres_json, donations.views.gift_quote_json) and computes none."""
        price = self.price_per_acre.amount
        if price <= 0:
            return Decimal(0)
        acres = min(Decimal(amount) / price, self.acres)
        if acres >= WHOLE_ACRES_FROM:
            return acres.quantize(Decimal("1"), ROUND_HALF_UP)
        return acres.quantize(Decimal("0.1"), ROUND_HALF_UP)

    def acres_rounded(self, amount: Decimal) -> bool:
        """Whether acres_for(amount) rounds, so the page says "about" (part of the same rule:
        the calculator, its acres.json and the donate form's quotes all ask here)."""
        price = self.price_per_acre.amount
        return price <= 0 or Decimal(amount) / price != self.acres_for(amount)

    @property
    def location_display(self) -> str:
        return ", ".join(p for p in (self.place, self.region, self.country) if p)

    def publish(self) -> None:
        self.status = self.Status.PUBLISHED
        if self.published_at is None:
            self.published_at = timezone.now()


class FundingTotals(models.Model):
    """Read model of a project's funding, written by the donations app in the same
    transaction as each donation change, read by the pages in the project's query."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="totals"
    )
    raised = MoneyField(max_digits=14, decimal_places=2, default_currency="USD", default=0)
    matched = MoneyField(max_digits=14, decimal_places=2, default_currency="USD", default=0)
    donor_count = models.PositiveIntegerField(default=0)
    gift_count = models.PositiveIntegerField(default=0)
    provisional = models.BooleanField(
        default=False,
        help_text="Some gifts in another currency await Stripe's real exchange rate.",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects: ClassVar[models.Manager[FundingTotals]] = models.Manager()

    class Meta:
        verbose_name_plural = "funding totals"

    def __str__(self) -> str:
        return f"Totals for {self.project_id}"


class PageVersion(models.Model):
    """A public page's version: ``scope`` 0 for what every page shows, else a project's id
    for that project's page. ``version`` only grows.

    Database triggers (projects/services/page_version.py; migrations ``projects.0008`` and
    ``donations.0022``) bump it in the same transaction as the change, on projects, their
    totals, species, threats, sections, photos and matching pools, so bulk updates and raw
    SQL invalidate the cached pages too, and a reader never sees a new version before the
    data it stands for is committed. ``campaign/pagecache.py`` keys the cached pages by
    them: a project's page by the site's and its own, the list by the site's and the sum of
    all projects'."""

    scope = models.BigIntegerField(primary_key=True)
    version = models.BigIntegerField(default=0)

    objects: ClassVar[models.Manager[PageVersion]] = models.Manager()

    def __str__(self) -> str:
        return f"Page version {self.scope}: {self.version}"


class IUCN(models.TextChoices):
    EX = "EX", _("Extinct")
    EW = "EW", _("Extinct in the Wild")
    CR = "CR", _("Critically Endangered")
    EN = "EN", _("Endangered")
    VU = "VU", _("Vulnerable")
    NT = "NT", _("Near Threatened")
    LC = "LC", _("Least Concern")
    DD = "DD", _("Data Deficient")
    NE = "NE", _("Not Evaluated")


# The IUCN Red List's own colours; text colour chosen for contrast on each.
IUCN_COLOURS = {
    "EX": ("#000000", "#ffffff"),
    "EW": ("#542344", "#ffffff"),
    "CR": ("#d81e05", "#ffffff"),
    "EN": ("#fc7f3f", "#000000"),
    "VU": ("#f9e814", "#000000"),
    "NT": ("#cce226", "#000000"),
    "LC": ("#60c659", "#000000"),
    "DD": ("#d1d1c6", "#000000"),
    "NE": ("#ffffff", "#000000"),
}


class KeySpecies(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="species")
    common_name = models.CharField(max_length=120)
    scientific_name = models.CharField(max_length=160, blank=True)
    iucn_category = models.CharField("IUCN category", max_length=2, choices=IUCN.choices)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name_plural = "key species"

    def __str__(self) -> str:
        return f"{self.common_name} ({self.iucn_category})"

    @property
    def iucn_background(self) -> str:
        return IUCN_COLOURS[self.iucn_category][0]

    @property
    def iucn_foreground(self) -> str:
        return IUCN_COLOURS[self.iucn_category][1]


class Threat(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="threats")
    title = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.title


class Section(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="sections")
    title = models.CharField(max_length=160)
    lead = models.TextField(blank=True, help_text="Short plain-text lead shown before “Read more”.")
    body = models.TextField(help_text="Rich text (HTML); unsafe markup is removed on save.")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.title


@receiver(pre_save, sender=Section)
def section_body_sanitize(sender: type[Section], instance: Section, **kwargs: Any) -> None:
    # Sanitising here, not only in the admin form, covers every write path (admin, load_demo,
    # shell, and fixtures: loaddata saves raw, skipping Model.save() but not pre_save).
    # Unsafe HTML must never be stored, in any language (body_en, body_es, ...).
    for language, _name in settings.LANGUAGES:
        name = f"body_{language}"
        value = getattr(instance, name, None)
        if value:
            setattr(instance, name, html_sanitize(value))


class Photo(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="projects/photos/")
    renditions = models.JSONField(default=dict, blank=True, editable=False)
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    caption = models.CharField(max_length=300, blank=True)
    credit = models.CharField(max_length=200, blank=True)
    alt_text = models.CharField(max_length=250)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.caption or self.alt_text


def media_url(name: str) -> str:
    return f"{settings.MEDIA_URL}{name}"
