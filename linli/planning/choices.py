from django.db import models
from django.utils.translation import gettext_lazy as _


class Section(models.TextChoices):
    """Where an indicator comes from, as plan_targets.yaml groups them."""

    PLAN = "plan", _("Community service system plan")
    SECTOR = "sector", _("Sector plans")
    LIFE_CIRCLE = "life_circle", _("Life circles")
    FACILITY_RULE = "facility_rule", _("Facility rules")
    LOCAL = "local", _("Defined by this deployment")


class Unit(models.TextChoices):
    PERCENT = "percent", _("percent")
    M2 = "m2", _("m²")
    COUNT = "count", _("count")


class Direction(models.TextChoices):
    UP = "up", _("Higher is better")
    DOWN = "down", _("Lower is better")


class Origin(models.TextChoices):
    """Defaults are rewritten by the loader from the shipped file; a deployment's own
    indicators never are."""

    DEFAULTS = "defaults", _("Shipped defaults")
    DEPLOYMENT = "deployment", _("This deployment")


class TrendStep(models.TextChoices):
    YEAR = "year", _("Years")
    QUARTER = "quarter", _("Quarters")
