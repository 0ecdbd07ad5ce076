from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .choices import RegionKind, RegionLevel


class Region(models.Model):
    """A node of the administrative tree, keyed by its statistical division code.

    The code is the primary key so that every table pointing at a region holds
    the code itself: "everything in this street" is a prefix match on that
    column, with no join and no recursive query. (On PostgreSQL Django adds a
    varchar_pattern_ops index beside every such key, so LIKE 'prefix%' is indexed.)
    """

    code = models.CharField(
        _("code"),
        max_length=12,
        primary_key=True,
        validators=[RegexValidator(r"^\d{12}$", _("A region code has exactly 12 digits."))],
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    level = models.CharField(_("level"), max_length=10, choices=RegionLevel.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=RegionKind.choices, blank=True)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    households = models.PositiveIntegerField(_("households"), null=True, blank=True)
    lat = models.FloatField(
        _("latitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    lon = models.FloatField(
        _("longitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["level", "kind"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level=RegionLevel.COMMUNITY) | models.Q(kind=""),
                name="region_kind_only_at_lowest_level",
            ),
            models.CheckConstraint(
                condition=~models.Q(level=RegionLevel.COMMUNITY) | ~models.Q(kind=""),
                name="region_lowest_level_has_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.code})"

    @property
    def display_name(self) -> str:
        """The English name when the page is in English and one is known."""
        language = get_language() or ""
        if language.startswith("en") and self.name_en:
            return self.name_en
        return self.name

    @property
    def prefix(self) -> str:
        from .codes import PREFIX_LENGTH

        return self.code[: PREFIX_LENGTH[RegionLevel(self.level)]]

    @property
    def is_lowest_level(self) -> bool:
        return self.level == RegionLevel.COMMUNITY
