from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.TextChoices):
    """The five levels of the administrative tree, top to bottom."""

    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County / district")
    STREET = "street", _("Street / township")
    COMMUNITY = "community", _("Community / village")


class RegionKind(models.TextChoices):
    """Only the lowest level has a kind: an urban community or a (rural) village."""

    URBAN = "urban", _("Urban community")
    RURAL = "rural", _("Village")
