"""Plan indicators as records: what each measures, how to compute it, and its targets.

An indicator is a ratio, numerator / denominator × scale, computed per community or
village and rolled up the region tree by adding numerators and denominators
(linli/planning/indicators.py). Targets and baselines are per year and per region: a
row without a region is the national default, and a region's own row wins over its
ancestors' (linli/planning/selectors.py, `target_for`).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .choices import Direction, Origin, Section, Unit


class Indicator(models.Model):
    code = models.CharField(
        _("code"),
        max_length=64,
        unique=True,
        validators=[
            RegexValidator(
                r"^[a-z][a-z0-9_]*$",
                _("Use lower-case letters, digits and underscores, starting with a letter."),
            )
        ],
    )
    name_zh = models.CharField(_("Chinese name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    section = models.CharField(_("section"), max_length=20, choices=Section.choices)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    direction = models.CharField(
        _("direction"), max_length=4, choices=Direction.choices, default=Direction.UP
    )
    numerator_text = models.TextField(_("numerator (definition)"), blank=True)
    denominator_text = models.TextField(_("denominator (definition)"), blank=True)
    # value = numerator / denominator × scale: 100 for a percentage, 100 for "per 100
    # households", 10,000 for "per 10,000 residents".
    scale = models.DecimalField(
        _("scale"),
        max_digits=12,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(0)],
    )
    # A declarative computation (linli/planning/specs.py); empty means the built-in one
    # for this code, if Linli has one, else "no data".
    spec = models.JSONField(_("computation"), null=True, blank=True)
    verified = models.BooleanField(_("verified"), default=False)
    source = models.TextField(_("source"), blank=True)
    # What the file says beyond the ratio: a life circle's walking distance and facility
    # kinds, a facility rule's minimum area.
    details = models.JSONField(_("details"), default=dict, blank=True)
    origin = models.CharField(
        _("origin"), max_length=12, choices=Origin.choices, default=Origin.DEPLOYMENT
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("shown"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.code})"

    @property
    def display_name(self) -> str:
        """The English name when the page is in English and one is known."""
        language = get_language() or ""
        if language.startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh

    @property
    def unit_symbol(self) -> str:
        return {"percent": "%", "m2": "m²"}.get(self.unit, "")


class IndicatorTarget(models.Model):
    """A target (or, with `is_baseline`, a baseline) of an indicator for a year.

    No region: the default shipped with Linli. A region: that region's own figure, which
    wins over its ancestors' and the default for itself and everything below it.
    """

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE, related_name="targets"
    )
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="indicator_targets",
        help_text=_("Empty for the default that applies everywhere."),
    )
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(1949)])
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=3)
    is_baseline = models.BooleanField(_("baseline"), default=False)
    note = models.CharField(_("note"), max_length=255, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("indicator target")
        verbose_name_plural = _("indicator targets")
        ordering = ["indicator", "region_id", "year", "is_baseline"]
        constraints = [
            # Two constraints, because NULL regions are distinct in a plain unique key.
            models.UniqueConstraint(
                fields=["indicator", "region", "year", "is_baseline"],
                condition=models.Q(region__isnull=False),
                name="indicator_target_unique_per_region",
            ),
            models.UniqueConstraint(
                fields=["indicator", "year", "is_baseline"],
                condition=models.Q(region__isnull=True),
                name="indicator_target_unique_default",
            ),
        ]

    def __str__(self) -> str:
        kind = "baseline" if self.is_baseline else "target"
        return f"{self.indicator.code} {kind} {self.year} {self.region_id or '*'}: {self.value}"
