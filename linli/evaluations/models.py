"""Residents' ratings of delivered requests, and complaints with their own workflow.

An `Evaluation` copies who delivered, where and what (responder, organization,
community, service, the served person's priority group) at rating time, so the
indices aggregate one table without joins. Hiding a comment is moderation: the
scores still count.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import ComplaintAction, ComplaintState, EscalationLevel, NeedMet, VisitKind

SCORE_FIELDS = ("overall", "timeliness", "attitude", "quality")


class Evaluation(models.Model):
    request = models.OneToOneField(
        "requests.ServiceRequest",
        verbose_name=_("request"),
        on_delete=models.PROTECT,
        related_name="evaluation",
    )
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rated by"),
        on_delete=models.PROTECT,
        related_name="evaluations",
    )
    person = models.ForeignKey(
        "residents.Resident",
        verbose_name=_("person served"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="evaluations",
    )
    responder = models.ForeignKey(
        "requests.Responder",
        verbose_name=_("responder"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="evaluations",
    )
    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("organization"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="evaluations",
    )
    community = models.ForeignKey(
        "regions.Region",
        verbose_name=_("community or village"),
        on_delete=models.PROTECT,
        related_name="evaluations",
    )
    service = models.ForeignKey(
        "directory.TaxonomyTerm",
        verbose_name=_("service"),
        on_delete=models.PROTECT,
        related_name="evaluations",
    )
    # residents.choices.PriorityGroup code, "" when none.
    priority_group = models.CharField(_("priority group"), max_length=30, blank=True)
    overall = models.PositiveSmallIntegerField(_("overall"))
    timeliness = models.PositiveSmallIntegerField(_("timeliness"))
    attitude = models.PositiveSmallIntegerField(_("attitude"))
    quality = models.PositiveSmallIntegerField(_("quality"))
    need_met = models.CharField(_("need met"), max_length=6, choices=NeedMet.choices)
    comment = models.TextField(_("comment"), blank=True)
    hidden_at = models.DateTimeField(_("comment hidden at"), null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("comment hidden by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    hidden_reason = models.TextField(_("why the comment was hidden"), blank=True)
    by_proxy = models.BooleanField(_("by a proxy"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(**{f"{name}__gte": 1, f"{name}__lte": 5}),
                name=f"evaluation_{name}_1_to_5",
            )
            for name in SCORE_FIELDS
        ]
        indexes = [
            models.Index(fields=["responder", "created_at"], name="evaluation_responder_at"),
            models.Index(fields=["organization", "created_at"], name="evaluation_org_at"),
            models.Index(fields=["community", "created_at"], name="evaluation_community_at"),
            models.Index(fields=["service", "created_at"], name="evaluation_service_at"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.overall}"

    @property
    def comment_hidden(self) -> bool:
        return self.hidden_at is not None


class Complaint(models.Model):
    complainant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("complainant"),
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    person = models.ForeignKey(
        "residents.Resident",
        verbose_name=_("person concerned"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="complaints",
    )
    request = models.ForeignKey(
        "requests.ServiceRequest",
        verbose_name=_("request"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
    )
    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
    )
    responder = models.ForeignKey(
        "requests.Responder",
        verbose_name=_("responder"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
    )
    facility = models.ForeignKey(
        "directory.Location",
        verbose_name=_("facility"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
    )
    community = models.ForeignKey(
        "regions.Region",
        verbose_name=_("community or village"),
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    text = models.TextField(_("complaint"))
    state = models.CharField(
        _("state"),
        max_length=14,
        choices=ComplaintState.choices,
        default=ComplaintState.RECEIVED,
        db_index=True,
    )
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    closed_satisfied = models.BooleanField(_("complainant satisfied"), null=True, blank=True)
    respond_by = models.DateTimeField(_("to be answered by"), db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        request__isnull=False,
                        organization__isnull=True,
                        responder__isnull=True,
                        facility__isnull=True,
                    )
                    | models.Q(
                        request__isnull=True,
                        organization__isnull=False,
                        responder__isnull=True,
                        facility__isnull=True,
                    )
                    | models.Q(
                        request__isnull=True,
                        organization__isnull=True,
                        responder__isnull=False,
                        facility__isnull=True,
                    )
                    | models.Q(
                        request__isnull=True,
                        organization__isnull=True,
                        responder__isnull=True,
                        facility__isnull=False,
                    )
                ),
                name="complaint_against_exactly_one",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "state"], name="complaint_community_state"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def target_kind(self) -> str:
        for kind in ("request", "organization", "responder", "facility"):
            if getattr(self, f"{kind}_id"):
                return kind
        return ""


class ComplaintEvent(models.Model):
    """One row per complaint transition: its timeline and its service-level clock."""

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(_("action"), max_length=12, choices=ComplaintAction.choices)
    from_state = models.CharField(
        _("from"), max_length=14, choices=ComplaintState.choices, blank=True
    )
    to_state = models.CharField(_("to"), max_length=14, choices=ComplaintState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    # Only on escalations: which officials were told (see jobs.py).
    level = models.PositiveSmallIntegerField(
        _("escalation level"), choices=EscalationLevel.choices, null=True, blank=True
    )
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("complaint event")
        verbose_name_plural = _("complaint events")
        ordering = ["at", "id"]
        constraints = [
            # Two escalation runs racing cannot tell the same officials twice.
            models.UniqueConstraint(
                fields=["complaint", "level"],
                condition=models.Q(action=ComplaintAction.ESCALATE),
                name="complaint_escalated_once_per_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.action}"


class FacilityVisit(models.Model):
    """A resident's use of a facility: a visit recorded by the facility's staff (or a
    community worker), or a booking the resident made. It is what entitles a rating."""

    facility = models.ForeignKey(
        "directory.Location",
        verbose_name=_("facility"),
        on_delete=models.PROTECT,
        related_name="visits",
    )
    person = models.ForeignKey(
        "residents.Resident",
        verbose_name=_("visitor"),
        on_delete=models.PROTECT,
        related_name="facility_visits",
    )
    # The visitor's own account when the visit was recorded: who is asked to rate.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("visitor's account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="facility_visits",
    )
    # The facility's community, else the visitor's: where its rating is moderated.
    community = models.ForeignKey(
        "regions.Region",
        verbose_name=_("community or village"),
        on_delete=models.PROTECT,
        related_name="facility_visits",
    )
    kind = models.CharField(_("kind"), max_length=8, choices=VisitKind.choices)
    on = models.DateField(_("date"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("facility visit")
        verbose_name_plural = _("facility visits")
        ordering = ["-on", "-id"]
        constraints = [
            # A booking and the visit it led to are one occasion, rated once.
            models.UniqueConstraint(
                fields=["facility", "person", "on"], name="facility_visit_once_a_day"
            ),
        ]
        indexes = [
            models.Index(fields=["person", "on"], name="facility_visit_person_on"),
        ]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.on}"


class FacilityRating(models.Model):
    """A visitor's rating of a facility, copying where and who, as `Evaluation` does."""

    visit = models.OneToOneField(
        FacilityVisit,
        verbose_name=_("visit"),
        on_delete=models.PROTECT,
        related_name="rating",
    )
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rated by"),
        on_delete=models.PROTECT,
        related_name="facility_ratings",
    )
    facility = models.ForeignKey(
        "directory.Location",
        verbose_name=_("facility"),
        on_delete=models.PROTECT,
        related_name="ratings",
    )
    community = models.ForeignKey(
        "regions.Region",
        verbose_name=_("community or village"),
        on_delete=models.PROTECT,
        related_name="facility_ratings",
    )
    # residents.choices.PriorityGroup code, "" when none.
    priority_group = models.CharField(_("priority group"), max_length=30, blank=True)
    overall = models.PositiveSmallIntegerField(_("overall"))
    comment = models.TextField(_("comment"), blank=True)
    hidden_at = models.DateTimeField(_("comment hidden at"), null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("comment hidden by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    hidden_reason = models.TextField(_("why the comment was hidden"), blank=True)
    by_proxy = models.BooleanField(_("by a proxy"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("facility rating")
        verbose_name_plural = _("facility ratings")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(overall__gte=1, overall__lte=5),
                name="facility_rating_overall_1_to_5",
            ),
        ]
        indexes = [
            models.Index(fields=["facility", "created_at"], name="facility_rating_at"),
            models.Index(fields=["community", "created_at"], name="facility_rating_comm_at"),
        ]

    def __str__(self) -> str:
        return f"{self.facility_id}: {self.overall}"

    @property
    def comment_hidden(self) -> bool:
        return self.hidden_at is not None
