"""States and kinds of volunteers, activities, the time bank and honours."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class VolunteerStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for verification")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Not verified")
    SUSPENDED = "suspended", _("Suspended")


class Qualification(models.TextChoices):
    """The three national levels of the social work qualification."""

    ASSISTANT = "assistant", _("Assistant social worker")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    SENIOR = "senior", _("Senior social worker")


class ActivityStatus(models.TextChoices):
    PUBLISHED = "published", _("Open for sign-up")
    CANCELLED = "cancelled", _("Cancelled")
    CLOSED = "closed", pgettext_lazy("activity", "Closed")


class SignupStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    CONFIRMED = "confirmed", _("Confirmed")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class AttendanceMethod(models.TextChoices):
    QR = "qr", _("QR code at the site")
    ORGANIZER = "organizer", _("Confirmed by the organizer")


class DisputeStatus(models.TextChoices):
    OPEN = "open", _("Waiting for the organizer")
    UPHELD = "upheld", _("Upheld: hours corrected")
    REJECTED = "rejected", _("Rejected")


class AccountKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANIZATION = "organization", _("Organization")
    COMMUNITY_POOL = "community_pool", _("Community pool")
    # System accounts: where earned hours come from, where held and spent hours sit.
    ISSUANCE = "issuance", _("Hours issued")
    HELD = "held", _("Hours held for redemptions")
    SPENT = "spent", _("Hours spent on services")


SYSTEM_ACCOUNT_KINDS = (AccountKind.ISSUANCE, AccountKind.HELD, AccountKind.SPENT)


class TransferKind(models.TextChoices):
    ACTIVITY_HOURS = "activity_hours", _("Hours for an activity")
    REQUEST_HOURS = "request_hours", _("Hours for a delivered request")
    DONATION = "donation", _("Donation")
    GRANT = "grant", _("Grant from the community pool")
    REDEMPTION_HOLD = "redemption_hold", _("Hours held for a service")
    REDEMPTION_SETTLE = "redemption_settle", _("Hours paid for a delivered service")
    REDEMPTION_RELEASE = "redemption_release", _("Held hours returned")
    REVERSAL = "reversal", _("Correction (reversal)")


# Transfers whose credit to a person counts as service hours (stars, certificates).
EARNING_KINDS = (TransferKind.ACTIVITY_HOURS, TransferKind.REQUEST_HOURS)


class RedemptionStatus(models.TextChoices):
    HELD = "held", _("Hours held")
    SETTLED = "settled", _("Paid")
    RELEASED = "released", _("Returned")


class AwardStatus(models.TextChoices):
    NOTICE = "notice", _("In public notice")
    AWARDED = "awarded", _("Awarded")
    WITHDRAWN = "withdrawn", _("Withdrawn after a challenge")


class ChallengeStatus(models.TextChoices):
    OPEN = "open", _("Under review")
    UPHELD = "upheld", _("Upheld: award withdrawn")
    DISMISSED = "dismissed", _("Dismissed")
