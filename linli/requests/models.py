"""Service requests: who needs what, where and when; who delivers; every step as an event.

A request moves only through `services.request_transition`, which consults the
one transition map in `choices.py` and writes a `RequestEvent` for every step:
the events are the resident's timeline, the service-level clock and the audit
trail at once.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.core.fields import EncryptedTextField

from .choices import (
    Action,
    Channel,
    Outcome,
    ResponderKind,
    ResponderStatus,
    State,
    Urgency,
)


class Responder(models.Model):
    """Someone who delivers: an organization offering services in a region, or a person
    (volunteer, social worker, provider staff) with skills, hours, a home and a radius."""

    kind = models.CharField(_("kind"), max_length=20, choices=ResponderKind.choices)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=200)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="responder",
    )
    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="responders",
    )
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("home region"),
        on_delete=models.PROTECT,
        related_name="responders",
        help_text=_("Where the responder lives or works: their requests come from around it."),
    )
    skills = models.ManyToManyField(
        "directory.TaxonomyTerm", verbose_name=_("skills"), related_name="responders"
    )
    # [{"day": 0-6 (Monday 0), "start": "HH:MM", "end": "HH:MM"}, …]; empty means any time.
    availability = models.JSONField(_("weekly availability"), default=list, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    radius_km = models.DecimalField(_("service radius (km)"), max_digits=5, decimal_places=1)
    max_open_tasks = models.PositiveSmallIntegerField(_("most open tasks at once"), default=3)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ResponderStatus.choices,
        default=ResponderStatus.ACTIVE,
    )
    # Mean of the ratings of the requests it delivered (kept by the evaluations app).
    rating = models.FloatField(_("rating"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("responder")
        verbose_name_plural = _("responders")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(radius_km__gt=0), name="responder_radius_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | models.Q(organization__isnull=False),
                name="responder_is_someone",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ServiceLevel(models.Model):
    """How fast a request must be answered and done, by service and urgency.

    A row without a service is the default for that urgency."""

    service = models.ForeignKey(
        "directory.TaxonomyTerm",
        verbose_name=_("service"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="service_levels",
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    respond_minutes = models.PositiveIntegerField(_("accepted within (minutes)"))
    resolve_minutes = models.PositiveIntegerField(_("completed within (minutes)"))

    class Meta:
        verbose_name = _("service level")
        verbose_name_plural = _("service levels")
        constraints = [
            models.UniqueConstraint(fields=["service", "urgency"], name="service_level_unique"),
            # One default per urgency (a partial index: SQLite has no NULLS NOT DISTINCT).
            models.UniqueConstraint(
                fields=["urgency"],
                condition=models.Q(service__isnull=True),
                name="service_level_default_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(resolve_minutes__gte=models.F("respond_minutes")),
                name="service_level_resolve_after_respond",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service or '*'} {self.urgency}"


class DispatchRound(models.Model):
    """One solve of the assignment of open requests to responders."""

    class Method(models.TextChoices):
        OPTIMAL = "optimal", _("All open requests at once (minimum cost)")
        URGENT = "urgent", _("An urgent request, at once")
        GREEDY = "greedy", _("One request at a time (for comparison)")

    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    requests_considered = models.PositiveIntegerField(_("requests considered"), default=0)
    responders_considered = models.PositiveIntegerField(_("responders considered"), default=0)
    assigned = models.PositiveIntegerField(_("assigned"), default=0)
    total_cost = models.FloatField(_("total cost"), default=0)
    seconds = models.FloatField(_("seconds"), default=0)

    class Meta:
        verbose_name = _("dispatch round")
        verbose_name_plural = _("dispatch rounds")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.method}"


class ServiceRequest(models.Model):
    public_id = models.CharField(_("request number"), max_length=20, unique=True)
    person = models.ForeignKey(
        "residents.Resident",
        verbose_name=_("person served"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_requests",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_requests_made",
    )
    partner = models.ForeignKey(
        "requests.Open311Partner",
        verbose_name=_("partner system"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_requests",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    service = models.ForeignKey(
        "directory.TaxonomyTerm",
        verbose_name=_("service"),
        on_delete=models.PROTECT,
        related_name="service_requests",
    )
    # People describe needs in their own words, often with health details: encrypted.
    description = EncryptedTextField(_("description"))
    community = models.ForeignKey(
        "regions.Region",
        verbose_name=_("community or village"),
        on_delete=models.PROTECT,
        related_name="service_requests",
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    # Who to call when the person served has no record (a partner's or a phone request).
    contact_name = EncryptedTextField(_("contact name"))
    contact_phone = EncryptedTextField(_("contact phone"))
    window_start = models.DateTimeField(_("wanted from"), null=True, blank=True)
    window_end = models.DateTimeField(_("wanted until"), null=True, blank=True)
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.SUBMITTED, db_index=True
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    priority = models.IntegerField(_("priority"), default=0, db_index=True)
    # {"urgency": 40, "elderly_living_alone": 25, …}: why this request comes first.
    priority_breakdown = models.JSONField(_("why this priority"), default=dict)
    respond_by = models.DateTimeField(_("to be accepted by"), null=True, blank=True)
    due_at = models.DateTimeField(_("to be completed by"), null=True, blank=True, db_index=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    responder = models.ForeignKey(
        Responder,
        verbose_name=_("responder"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_requests",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "-priority"], name="request_queue")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_end__isnull=True)
                | models.Q(window_start__isnull=True)
                | models.Q(window_end__gt=models.F("window_start")),
                name="request_window_ordered",
            ),
            models.CheckConstraint(
                condition=~models.Q(state=State.CLOSED) | ~models.Q(outcome=""),
                name="request_closed_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class RequestEvent(models.Model):
    """One step of a request: who, when, from which state to which, and why."""

    request = models.ForeignKey(
        ServiceRequest,
        verbose_name=_("request"),
        on_delete=models.CASCADE,
        related_name="events",
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    from_state = models.CharField(_("from"), max_length=12, choices=State.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=12, choices=State.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # "system", "dispatch", "open311:<partner>"… when no person acted.
    actor_label = models.CharField(_("by"), max_length=100, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.action} {self.from_state}→{self.to_state}"


class Assignment(models.Model):
    """A responder holding a request, and why they were chosen."""

    request = models.ForeignKey(
        ServiceRequest,
        verbose_name=_("request"),
        on_delete=models.CASCADE,
        related_name="assignments",
    )
    responder = models.ForeignKey(
        Responder,
        verbose_name=_("responder"),
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    round = models.ForeignKey(
        DispatchRound,
        verbose_name=_("dispatch round"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assignments",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # {"candidates": [{"responder": id, "cost": …, "distance_km": …}, …], "why": "…"}
    explanation = models.JSONField(_("explanation"), default=dict)
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("ended because"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["assigned_at", "id"]
        constraints = [
            # One live assignment per request, whoever tries at the same moment.
            models.UniqueConstraint(
                fields=["request"],
                condition=models.Q(ended_at__isnull=True),
                name="assignment_one_live_per_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} → {self.responder_id}"


class Escalation(models.Model):
    """A missed service level, raised to the community worker (1) or the street (2)."""

    class Deadline(models.TextChoices):
        RESPOND = "respond", _("Not accepted in time")
        RESOLVE = "resolve", _("Not completed in time")

    request = models.ForeignKey(
        ServiceRequest,
        verbose_name=_("request"),
        on_delete=models.CASCADE,
        related_name="escalations",
    )
    deadline = models.CharField(_("deadline"), max_length=10, choices=Deadline.choices)
    # The due time that was missed: a reopened request gets new due times, and missing
    # one of those is a new escalation, not one raised already.
    deadline_at = models.DateTimeField(_("was due at"))
    level = models.PositiveSmallIntegerField(_("level"))
    raised_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    notified = models.JSONField(_("notified"), default=list)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "deadline", "deadline_at", "level"],
                name="escalation_once_per_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.deadline} L{self.level}"


class IdempotencyKey(models.Model):
    """A client's retry key: the same key and body never create a second request."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    body_hash = models.CharField(max_length=64)
    request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return self.key


class Open311Partner(models.Model):
    """A partner system allowed to post requests through Open311 with its api_key.

    Only a hash of the key is kept; the key is shown once, when it is issued."""

    name = models.CharField(pgettext_lazy("organization", "name"), max_length=200, unique=True)
    key_prefix = models.CharField(_("key starts with"), max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Requests from this partner must fall in this region."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 partner")
        verbose_name_plural = _("Open311 partners")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def attachment_path(instance: Attachment, filename: str) -> str:
    """Stored under a random name: the uploader's file name is kept in the row only."""
    suffixes = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}
    suffix = suffixes.get(instance.content_type, "")
    return f"requests/{instance.request.public_id}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    """A photo or a document that comes with a request (a broken handrail, a prescription).

    Kept under MEDIA_ROOT, which no URL serves: files go out only through the
    request's own endpoint, to those who may see the request."""

    request = models.ForeignKey(
        ServiceRequest,
        verbose_name=_("request"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to=attachment_path)
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=50)
    size = models.PositiveIntegerField(_("size in bytes"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name
