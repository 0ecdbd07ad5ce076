"""Periodic jobs of the evaluations app (linli.core.tasks.PERIODIC_JOBS).

`escalate_complaints` tells officials of complaints left unanswered: a complaint still
received or being investigated after its `respond_by` goes to the street officials over
its community (level 1), and, LINLI_COMPLAINT_ESCALATE_DAYS (default 7) after
`respond_by`, to the district officials (level 2). Each escalation is a ComplaintEvent
(action "escalate", state unchanged) unique per complaint and level, so a run after a
gap catches up, a second run (or two racing) tells nobody twice, and the complaint's
timeline shows who was told. Level 2 waits for level 1 from an earlier run, so the
street always hears first.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.accounts.selectors import role_holders_over
from linli.core.tasks import task
from linli.notifications.texts import in_every_language

from .choices import OPEN_COMPLAINT_STATES, ComplaintAction, ComplaintState, EscalationLevel
from .models import Complaint, ComplaintEvent
from .services import announce_complaint

logger = logging.getLogger(__name__)

ESCALATE_COMPLAINTS = "evaluations.escalate_complaints"
LEVEL_ROLES = {
    EscalationLevel.STREET: Role.STREET_OFFICIAL,
    EscalationLevel.DISTRICT: Role.DISTRICT_OFFICIAL,
}


def escalate_days() -> int:
    return int(settings.LINLI_COMPLAINT_ESCALATE_DAYS)


def escalation_recipients(complaint: Complaint, level: int) -> list[User]:
    """Holders of the level's role over the complaint's community (or above it)."""
    return list(role_holders_over(LEVEL_ROLES[EscalationLevel(level)], complaint.community_id))


def complaints_to_escalate(now: dt.datetime) -> list[tuple[Complaint, int]]:
    """(complaint, level) of every escalation due and not yet recorded."""
    escalated = ComplaintEvent.objects.filter(
        complaint=OuterRef("pk"), action=ComplaintAction.ESCALATE
    )
    later = now - dt.timedelta(days=escalate_days())
    rows = (
        Complaint.objects.filter(state__in=OPEN_COMPLAINT_STATES, respond_by__lt=now)
        .annotate(
            street=Exists(escalated.filter(level=EscalationLevel.STREET)),
            district=Exists(escalated.filter(level=EscalationLevel.DISTRICT)),
        )
        .filter(Q(street=False) | Q(district=False, respond_by__lt=later))
        .order_by("respond_by", "pk")
    )
    return [(c, EscalationLevel.DISTRICT if c.street else EscalationLevel.STREET) for c in rows]


@transaction.atomic
def complaint_escalate(*, complaint: Complaint, level: int, now: dt.datetime) -> bool:
    """Record one escalation and tell its officials after commit; False when it was
    recorded already or the complaint was answered meanwhile."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if complaint.state not in OPEN_COMPLAINT_STATES or complaint.respond_by >= now:
        return False
    recipients = escalation_recipients(complaint, level)
    try:
        with transaction.atomic():
            ComplaintEvent.objects.create(
                complaint=complaint,
                action=ComplaintAction.ESCALATE,
                from_state=complaint.state,
                to_state=complaint.state,
                level=level,
                note=", ".join(user.username for user in recipients),
            )
    except IntegrityError:
        return False
    if not recipients:
        logger.warning(
            "Complaint %s is overdue and nobody holds %s over %s",
            complaint.pk,
            LEVEL_ROLES[EscalationLevel(level)],
            complaint.community_id,
        )
    announce_complaint(
        recipients,
        complaint.pk,
        (
            gettext_noop("Complaint #%(number)s is overdue"),
            gettext_noop("It was to be answered by %(date)s and is still %(state)s."),
        ),
        {
            "number": complaint.pk,
            "date": timezone.localtime(complaint.respond_by).strftime("%Y-%m-%d"),
            "state": in_every_language(ComplaintState(complaint.state).label),
        },
        f"complaint:{complaint.pk}:escalate:{level}",
    )
    return True


def escalate_complaints(now: dt.datetime | None = None) -> dict[str, int]:
    """Record every due escalation, each in its own transaction. Idempotent."""
    now = now or timezone.now()
    counts = {"street": 0, "district": 0}
    failed = 0
    for complaint, level in complaints_to_escalate(now):
        try:
            if complaint_escalate(complaint=complaint, level=level, now=now):
                counts["street" if level == EscalationLevel.STREET else "district"] += 1
        except Exception:
            failed += 1
            logger.exception("Could not escalate complaint %s", complaint.pk)
    if failed:
        raise RuntimeError(f"escalated {counts}, {failed} could not be escalated")
    return counts


@task(ESCALATE_COMPLAINTS)
def escalate_complaints_job() -> dict[str, int]:
    return escalate_complaints()
