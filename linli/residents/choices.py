from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")


class DisabilityCategory(models.TextChoices):
    """The seven categories of China's disability certificate (残疾人证)."""

    VISUAL = "visual", _("Visual")
    HEARING = "hearing", _("Hearing")
    SPEECH = "speech", _("Speech")
    PHYSICAL = "physical", pgettext_lazy("disability", "Physical")
    INTELLECTUAL = "intellectual", _("Intellectual")
    MENTAL = "mental", _("Mental")
    MULTIPLE = "multiple", _("Multiple")


class Difficulty(models.TextChoices):
    """Social assistance status of a family in difficulty."""

    SUBSISTENCE = "subsistence", _("Subsistence allowance (低保)")
    EXTREME_POVERTY = "extreme_poverty", _("Extreme-poverty support (特困)")
    LOW_INCOME_MARGIN = "low_income_margin", _("Low-income margin (低边)")


class PriorityGroup(models.TextChoices):
    """The plan's priority groups; codes match the shipped taxonomy's."""

    ELDERLY = "elderly", _("Older person (60+)")
    ELDERLY_LIVING_ALONE = "elderly_living_alone", _("Older person living alone")
    DISABLED = "disabled", _("Person with a disability")
    MINOR = "minor", _("Minor (under 18)")
    FAMILY_IN_DIFFICULTY = "family_in_difficulty", _("Family in difficulty")
    LEFT_BEHIND = "left_behind", _("Left-behind elder or child (rural)")


class AgeBand(models.TextChoices):
    UNDER_14 = "0-13", _("Under 14")
    MINOR = "14-17", _("14 to 17")
    ADULT = "18-59", _("18 to 59")
    YOUNG_OLD = "60-79", _("60 to 79")
    OLDEST = "80+", _("80 and over")
    UNKNOWN = "unknown", _("Age unknown")


class ConsentPurpose(models.TextChoices):
    REGISTRATION = "registration", _("Registration in the community's register")
    SERVICES = "services", _("Arranging services and requests")
    HEALTH = "health", _("Recording health needs")
    PROXY = "proxy", _("A family member acting on the resident's behalf")
    GUARDIAN = "guardian", _("A guardian's consent for a child under 14")


class RelationKind(models.TextChoices):
    GUARDIAN = "guardian", _("Guardian")
    EMERGENCY_CONTACT = "emergency_contact", _("Emergency contact")
    PROXY = "proxy", _("Proxy")
    # Kinship, for the time bank: who may spend a volunteer's hours.
    SPOUSE = "spouse", _("Spouse")
    PARENT = "parent", _("Parent")
    CHILD = "child", _("Child")
    GRANDPARENT = "grandparent", _("Grandparent")
    GRANDCHILD = "grandchild", _("Grandchild")
