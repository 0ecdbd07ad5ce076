"""Evaluation answers, complaint states, the actions that move a complaint, and its map."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class NeedMet(models.TextChoices):
    YES = "yes", _("Yes")
    PARTLY = "partly", _("Partly")
    NO = "no", _("No")


class ComplaintState(models.TextChoices):
    RECEIVED = "received", _("Received")
    INVESTIGATING = "investigating", _("Being investigated")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", pgettext_lazy("complaint", "Closed")


class ComplaintAction(models.TextChoices):
    FILE = "file", _("Filed")
    INVESTIGATE = "investigate", _("Investigation started")
    ANSWER = "answer", _("Answered")
    CLOSE = "close", pgettext_lazy("complaint", "Closed")
    # Not a transition: an event row saying who was told that the complaint is overdue.
    ESCALATE = "escalate", _("Escalated as overdue")


class ComplaintTarget(models.TextChoices):
    REQUEST = "request", _("A request")
    ORGANIZATION = "organization", _("A provider")
    RESPONDER = "responder", _("A volunteer or responder")
    FACILITY = "facility", _("A facility")


class EscalationLevel(models.IntegerChoices):
    """Who hears of an overdue complaint: the street's officials, then the district's."""

    STREET = 1, _("Street officials told")
    DISTRICT = 2, _("District officials told")


class VisitKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    BOOKING = "booking", _("Booking")


# The transition map: (from state, action) → to state. The only place it is written.
TRANSITIONS: dict[tuple[str, str], str] = {
    (ComplaintState.RECEIVED, ComplaintAction.INVESTIGATE): ComplaintState.INVESTIGATING,
    (ComplaintState.RECEIVED, ComplaintAction.ANSWER): ComplaintState.ANSWERED,
    (ComplaintState.INVESTIGATING, ComplaintAction.ANSWER): ComplaintState.ANSWERED,
    (ComplaintState.ANSWERED, ComplaintAction.CLOSE): ComplaintState.CLOSED,
}

OPEN_COMPLAINT_STATES = (ComplaintState.RECEIVED, ComplaintState.INVESTIGATING)


def allowed_actions(state: str) -> list[str]:
    return [action for (source, action) in TRANSITIONS if source == state]
