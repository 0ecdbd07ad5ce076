from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganizationKind(models.TextChoices):
    GOVERNMENT = "government", _("Government")
    COMMUNITY_COMMITTEE = "community_committee", _("Community committee")
    SOCIAL_ORGANIZATION = "social_organization", _("Social organization")
    CHARITY = "charity", _("Charity")
    ENTERPRISE = "enterprise", _("Enterprise")
    PUBLIC_INSTITUTION = "public_institution", _("Public institution")


class ServiceStatus(models.TextChoices):
    """HSDS service statuses, spelled as HSDS spells them."""

    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    DEFUNCT = "defunct", _("Defunct")
    TEMPORARILY_CLOSED = "temporarily closed", _("Temporarily closed")


class FeeKind(models.TextChoices):
    FREE = "free", _("Free")
    SUBSIDIZED = "subsidized", _("Subsidized")
    MARKET = "market", _("Market price")
    UNKNOWN = "unknown", _("Not stated")


class LocationType(models.TextChoices):
    PHYSICAL = "physical", _("Physical")
    POSTAL = "postal", _("Postal")
    VIRTUAL = "virtual", _("Virtual")


class FacilityKind(models.TextChoices):
    """What a place is, in the words of the plan; the codes match plan_targets.yaml."""

    COMPREHENSIVE = "comprehensive_service_facility", _("Comprehensive community service facility")
    HEALTH_CENTER = "community_health_center", _("Community health centre")
    HEALTH_STATION = "health_station", _("Community health station")
    VILLAGE_CLINIC = "village_clinic", _("Village clinic")
    ELDERLY_DAY_CARE = "elderly_day_care", _("Elderly day care")
    ELDERLY_CANTEEN = "elderly_canteen", _("Elderly canteen")
    NURSING_HOME = "nursing_home", _("Nursing home")
    NURSERY = "nursery", _("Nursery")
    KINDERGARTEN = "kindergarten", _("Kindergarten")
    OUTDOOR_FITNESS = "outdoor_fitness", _("Outdoor fitness corner")
    SPORTS_GROUND = "sports_ground", _("Sports ground")
    CULTURE_ROOM = "culture_room", _("Culture room")
    LIBRARY = "library", _("Library")
    VOLUNTEER_STATION = "volunteer_station", _("Volunteer station")
    SELF_SERVICE_TERMINAL = "self_service_terminal", _("Self-service terminal")
    OTHER = "other", _("Other")


class AccessibilityFeature(models.TextChoices):
    """Features recorded as HSDS accessibility rows (their `details` holds the code)."""

    STEP_FREE = "step_free_entrance", _("Step-free entrance")
    RAMP = "ramp", _("Ramp")
    LIFT = "lift", _("Lift")
    ACCESSIBLE_TOILET = "accessible_toilet", _("Accessible toilet")
    HANDRAILS = "handrails", _("Handrails")
    TACTILE_PAVING = "tactile_paving", _("Tactile paving")
    HEARING_LOOP = "hearing_loop", _("Hearing loop")
    BRAILLE = "braille_signage", _("Braille signage")
    ACCESSIBLE_PARKING = "accessible_parking", _("Accessible parking")
    WHEELCHAIR_LOAN = "wheelchair_loan", _("Wheelchairs to borrow")


class Weekday(models.TextChoices):
    MO = "MO", _("Monday")
    TU = "TU", _("Tuesday")
    WE = "WE", _("Wednesday")
    TH = "TH", _("Thursday")
    FR = "FR", _("Friday")
    SA = "SA", _("Saturday")
    SU = "SU", _("Sunday")


class ScheduleFrequency(models.TextChoices):
    WEEKLY = "WEEKLY", _("Weekly")
    MONTHLY = "MONTHLY", _("Monthly")


class AttributeLinkType(models.TextChoices):
    """Why a taxonomy term is attached to a record (HSDS attribute.link_type)."""

    CATEGORY = "category", _("Category")
    ELIGIBILITY = "eligibility", _("Eligibility")


# Which HSDS table an attribute, metadata row or phone belongs to (HSDS link_entity).
class LinkEntity(models.TextChoices):
    ORGANIZATION = "organization", _("Organization")
    SERVICE = "service", _("Service")
    LOCATION = "location", _("Location")
    SERVICE_AT_LOCATION = "service_at_location", _("Service at location")
