from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a person does in Linli. A role is always held over a scope (see RoleAssignment)."""

    RESIDENT = "resident", _("Resident")
    VOLUNTEER = "volunteer", _("Volunteer")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    PROVIDER_STAFF = "provider_staff", _("Provider staff")
    COMMUNITY_WORKER = "community_worker", _("Community worker")
    STREET_OFFICIAL = "street_official", _("Street official")
    DISTRICT_OFFICIAL = "district_official", _("District official")
    CITY_OFFICIAL = "city_official", _("City official")
    AUDITOR = "auditor", _("Auditor")
    SYSTEM_ADMIN = "system_admin", _("System administrator")
