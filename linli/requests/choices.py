"""The request's states, the actions that move it, and the one map between them."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class State(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    TRIAGED = "triaged", _("Waiting for a responder")
    ASSIGNED = "assigned", _("Assigned")
    ACCEPTED = "accepted", _("Accepted")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    CONFIRMED = "confirmed", _("Confirmed")
    CLOSED = "closed", pgettext_lazy("request", "Closed")
    CANCELLED = "cancelled", _("Cancelled")
    REJECTED = "rejected", _("Rejected")


class Action(models.TextChoices):
    """What someone (or the system) does to a request; each is one event kind."""

    SUBMIT = "submit", _("Submitted")
    TRIAGE = "triage", _("Triaged")
    ASSIGN = "assign", _("Assigned")
    ACCEPT = "accept", _("Accepted")
    DECLINE = "decline", _("Declined")
    START = "start", _("Started")
    COMPLETE = "complete", _("Completed")
    CONFIRM = "confirm", _("Confirmed")
    CLOSE = "close", pgettext_lazy("request", "Closed")
    CANCEL = "cancel", _("Cancelled")
    REJECT = "reject", _("Rejected")
    REOPEN = "reopen", _("Reopened")


class Outcome(models.TextChoices):
    """How a closed request ended: closing is not the same as resolving."""

    RESOLVED = "resolved", _("Resolved")
    UNRESOLVED = "unresolved", _("Not resolved")


class Urgency(models.TextChoices):
    LOW = "low", _("Can wait a few days")
    NORMAL = "normal", _("Within a day or two")
    HIGH = "high", _("Today")
    URGENT = "urgent", _("Urgent: now")


class Channel(models.TextChoices):
    RESIDENT = "resident", _("The resident")
    PROXY = "proxy", _("A proxy")
    PHONE = "phone", _("A phone call taken by a community worker")
    OPEN311 = "open311", _("A partner system (Open311)")
    API = "api", _("The API")


class ResponderKind(models.TextChoices):
    ORGANIZATION = "organization", _("Organization")
    VOLUNTEER = "volunteer", _("Volunteer")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    PROVIDER_STAFF = "provider_staff", _("Provider staff")


class ResponderStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")


# The transition map: (from state, action) → to state. The only place it is written.
TRANSITIONS: dict[tuple[str, str], str] = {
    (State.SUBMITTED, Action.TRIAGE): State.TRIAGED,
    (State.SUBMITTED, Action.REJECT): State.REJECTED,
    (State.SUBMITTED, Action.CANCEL): State.CANCELLED,
    (State.TRIAGED, Action.ASSIGN): State.ASSIGNED,
    (State.TRIAGED, Action.REJECT): State.REJECTED,
    (State.TRIAGED, Action.CANCEL): State.CANCELLED,
    (State.ASSIGNED, Action.ACCEPT): State.ACCEPTED,
    (State.ASSIGNED, Action.DECLINE): State.TRIAGED,
    (State.ASSIGNED, Action.ASSIGN): State.ASSIGNED,  # reassignment by staff
    (State.ASSIGNED, Action.CANCEL): State.CANCELLED,
    (State.ACCEPTED, Action.START): State.IN_PROGRESS,
    (State.ACCEPTED, Action.DECLINE): State.TRIAGED,
    (State.ACCEPTED, Action.CANCEL): State.CANCELLED,
    (State.IN_PROGRESS, Action.COMPLETE): State.COMPLETED,
    (State.COMPLETED, Action.CONFIRM): State.CONFIRMED,
    (State.COMPLETED, Action.REOPEN): State.TRIAGED,
    (State.COMPLETED, Action.CLOSE): State.CLOSED,
    (State.CONFIRMED, Action.CLOSE): State.CLOSED,
    (State.CONFIRMED, Action.REOPEN): State.TRIAGED,
    (State.CLOSED, Action.REOPEN): State.TRIAGED,
}

# States in which a request still waits on someone.
OPEN_STATES = (
    State.SUBMITTED,
    State.TRIAGED,
    State.ASSIGNED,
    State.ACCEPTED,
    State.IN_PROGRESS,
)
# States in which the request holds a responder.
HELD_STATES = (State.ASSIGNED, State.ACCEPTED, State.IN_PROGRESS)


def allowed_actions(state: str) -> list[str]:
    return [action for (source, action) in TRANSITIONS if source == state]
