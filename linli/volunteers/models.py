"""Volunteers, social workers, teams, activities and attendance, the time bank, honours.

The time bank is a double-entry, append-only ledger: a `Transfer` declares how many
`Movement` legs it has; the database refuses the last leg unless the legs sum to
zero, keeps every account's balance from its movements, and refuses a balance
below zero on any account but the issuing one (migration 0002). Corrections are
reversing transfers, never edits.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import (
    AccountKind,
    ActivityStatus,
    AttendanceMethod,
    AwardStatus,
    ChallengeStatus,
    DisputeStatus,
    Qualification,
    RedemptionStatus,
    SignupStatus,
    TransferKind,
    VolunteerStatus,
)


class Team(models.Model):
    """A volunteer team, belonging to an organization or to a community."""

    name = models.CharField(_("name"), max_length=200)
    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volunteer_teams",
    )
    community = models.ForeignKey(
        "regions.Region",
        verbose_name=_("community or village"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volunteer_teams",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("volunteer team")
        verbose_name_plural = _("volunteer teams")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(organization__isnull=False) | models.Q(community__isnull=False),
                name="team_belongs_somewhere",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Volunteer(models.Model):
    """A resident who gives time: skills, availability, a radius, teams; verified before
    they take tasks (the verification creates their responder for dispatch)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="volunteer",
    )
    resident = models.OneToOneField(
        "residents.Resident",
        verbose_name=_("resident record"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="volunteer",
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=100)
    community = models.ForeignKey(
        "regions.Region",
        verbose_name=_("community or village"),
        on_delete=models.PROTECT,
        related_name="volunteers",
    )
    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("verifying organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volunteers",
        help_text=_("Left empty, the community's workers verify the volunteer."),
    )
    skills = models.ManyToManyField(
        "directory.TaxonomyTerm", verbose_name=_("skills"), related_name="volunteers", blank=True
    )
    # [{"day": 0-6 (Monday 0), "start": "HH:MM", "end": "HH:MM"}, …]; empty means any time.
    availability = models.JSONField(_("weekly availability"), default=list, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    radius_km = models.DecimalField(
        _("service radius (km)"), max_digits=5, decimal_places=1, default=Decimal("2.0")
    )
    teams = models.ManyToManyField(
        Team, verbose_name=_("teams"), related_name="members", blank=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=VolunteerStatus.choices, default=VolunteerStatus.PENDING
    )
    status_reason = models.CharField(_("reason"), max_length=255, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    responder = models.OneToOneField(
        "requests.Responder",
        verbose_name=_("responder"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="volunteer",
    )
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")
        ordering = ["community_id", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(radius_km__gt=0), name="volunteer_radius_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SocialWorker(models.Model):
    """A professional social worker and the national qualification they hold."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="social_worker",
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=100)
    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="social_workers",
    )
    community = models.ForeignKey(
        "regions.Region",
        verbose_name=_("community or village"),
        on_delete=models.PROTECT,
        related_name="social_workers",
    )
    qualification = models.CharField(
        _("qualification"), max_length=20, choices=Qualification.choices
    )
    certificate_number = models.CharField(_("certificate number"), max_length=40)
    certified_on = models.DateField(_("certified on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=VolunteerStatus.choices, default=VolunteerStatus.PENDING
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("social worker")
        verbose_name_plural = _("social workers")
        ordering = ["community_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["certificate_number"], name="social_worker_certificate_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Activity(models.Model):
    """A volunteer activity an organization or a community publishes."""

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("organizing organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volunteer_activities",
    )
    community = models.ForeignKey(
        "regions.Region",
        verbose_name=_("community or village"),
        on_delete=models.PROTECT,
        related_name="volunteer_activities",
        help_text=_("Where the activity takes place."),
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("organizer"),
        on_delete=models.PROTECT,
        related_name="organized_activities",
    )
    address = models.CharField(_("address"), max_length=255)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(_("people wanted"))
    skills = models.ManyToManyField(
        "directory.TaxonomyTerm",
        verbose_name=_("skills wanted"),
        related_name="volunteer_activities",
        blank=True,
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ActivityStatus.choices,
        default=ActivityStatus.PUBLISHED,
    )
    # Signs the QR codes shown at the site; a new secret invalidates codes already shown.
    qr_secret = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("volunteer activity")
        verbose_name_plural = _("volunteer activities")
        ordering = ["-starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="activity_ends_after_start",
            ),
            models.CheckConstraint(condition=models.Q(capacity__gt=0), name="activity_capacity"),
        ]

    def __str__(self) -> str:
        return self.title


class Signup(models.Model):
    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="signups"
    )
    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("volunteer"), on_delete=models.PROTECT, related_name="signups"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=SignupStatus.choices, default=SignupStatus.APPLIED
    )
    applied_at = models.DateTimeField(_("applied at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        ordering = ["activity_id", "applied_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "volunteer"], name="signup_once"),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} → {self.activity}"


class Attendance(models.Model):
    """Who was there and for how long. Whoever organizes records; whoever records
    certifies: `recorded_by` and `certified_by` are kept, and the certified hours are
    the ones credited."""

    signup = models.OneToOneField(
        Signup, verbose_name=_("sign-up"), on_delete=models.CASCADE, related_name="attendance"
    )
    method = models.CharField(_("recorded by"), max_length=10, choices=AttendanceMethod.choices)
    checked_in_at = models.DateTimeField(_("checked in at"))
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=2, null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    certified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("certified by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    certified_at = models.DateTimeField(_("certified at"), null=True, blank=True)
    transfer = models.ForeignKey(
        "Transfer",
        verbose_name=_("credited by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["checked_in_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(checked_out_at__isnull=True)
                | models.Q(checked_out_at__gt=models.F("checked_in_at")),
                name="attendance_out_after_in",
            ),
            models.CheckConstraint(
                condition=models.Q(hours__isnull=True) | models.Q(hours__gt=0, hours__lte=24),
                name="attendance_hours_within_a_day",
            ),
        ]

    def __str__(self) -> str:
        return str(self.signup)


class HoursDispute(models.Model):
    """A volunteer disagrees with the hours recorded; the organizer answers."""

    attendance = models.ForeignKey(
        Attendance, verbose_name=_("attendance"), on_delete=models.CASCADE, related_name="disputes"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("raised by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    claimed_hours = models.DecimalField(_("hours claimed"), max_digits=5, decimal_places=2)
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=10, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
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
    raised_at = models.DateTimeField(_("raised at"), auto_now_add=True)

    class Meta:
        verbose_name = _("hours dispute")
        verbose_name_plural = _("hours disputes")
        ordering = ["-raised_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(claimed_hours__gt=0, claimed_hours__lte=24),
                name="dispute_hours_within_a_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.attendance} ({self.get_status_display()})"


class Account(models.Model):
    """A time-bank account: a person's, an organization's, a community's pool, or one of
    the three system accounts. Its balance is kept by the database from its movements."""

    kind = models.CharField(_("kind"), max_length=16, choices=AccountKind.choices)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account holder"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="timebank_account",
    )
    organization = models.OneToOneField(
        "directory.Organization",
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="timebank_account",
    )
    community = models.OneToOneField(
        "regions.Region",
        verbose_name=_("community or village"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="timebank_pool",
    )
    balance = models.DecimalField(
        _("balance (hours)"), default=Decimal("0"), max_digits=14, decimal_places=2
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("time-bank account")
        verbose_name_plural = _("time-bank accounts")
        ordering = ["kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=0) | models.Q(kind=AccountKind.ISSUANCE),
                name="account_balance_not_negative",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind=AccountKind.PERSON,
                        user__isnull=False,
                        organization__isnull=True,
                        community__isnull=True,
                    )
                    | models.Q(
                        kind=AccountKind.ORGANIZATION,
                        user__isnull=True,
                        organization__isnull=False,
                        community__isnull=True,
                    )
                    | models.Q(
                        kind=AccountKind.COMMUNITY_POOL,
                        user__isnull=True,
                        organization__isnull=True,
                        community__isnull=False,
                    )
                    | models.Q(
                        kind__in=[AccountKind.ISSUANCE, AccountKind.HELD, AccountKind.SPENT],
                        user__isnull=True,
                        organization__isnull=True,
                        community__isnull=True,
                    )
                ),
                name="account_has_its_owner",
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(
                    kind__in=[AccountKind.ISSUANCE, AccountKind.HELD, AccountKind.SPENT]
                ),
                name="account_one_per_system_kind",
            ),
        ]

    def __str__(self) -> str:
        owner = self.user or self.organization or self.community
        return f"{self.get_kind_display()}: {owner}" if owner else self.get_kind_display()


class Transfer(models.Model):
    """One booking in the time bank: `legs` movements that sum to zero."""

    kind = models.CharField(_("kind"), max_length=20, choices=TransferKind.choices)
    legs = models.PositiveSmallIntegerField(_("movements"))
    memo = models.CharField(_("memo"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("booked by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
    )
    # What the hours were for, so records and certificates can list them.
    activity = models.ForeignKey(
        Activity,
        verbose_name=_("activity"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfers",
    )
    request = models.ForeignKey(
        "requests.ServiceRequest",
        verbose_name=_("service request"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="timebank_transfers",
    )
    # Who did the service the hours were earned for (a person, even when their hours
    # went to the pool above the cap, or the hours went to their organization).
    earned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("earned by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="earning_transfers",
    )
    created_at = models.DateTimeField(_("booked at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("time-bank transfer")
        verbose_name_plural = _("time-bank transfers")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(legs__gte=2), name="transfer_two_legs"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Movement(models.Model):
    """One leg of a transfer: hours into (positive) or out of (negative) an account."""

    transfer = models.ForeignKey(
        Transfer, verbose_name=_("transfer"), on_delete=models.PROTECT, related_name="movements"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="movements"
    )
    # Wide enough for the issuing account: minus every hour ever earned, for decades.
    amount = models.DecimalField(_("hours"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("movement")
        verbose_name_plural = _("movements")
        ordering = ["id"]
        indexes = [models.Index(fields=["account", "id"], name="movement_account_idx")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="movement_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.amount:+}"


class Redemption(models.Model):
    """Hours spent on a service for the volunteer, their spouse or a parent aged 60+:
    held when asked, paid when the service is confirmed, returned if it is not."""

    account = models.ForeignKey(
        Account, verbose_name=_("paid from"), on_delete=models.PROTECT, related_name="redemptions"
    )
    beneficiary = models.ForeignKey(
        "residents.Resident",
        verbose_name=_("for"),
        on_delete=models.PROTECT,
        related_name="timebank_redemptions",
    )
    request = models.OneToOneField(
        "requests.ServiceRequest",
        verbose_name=_("service request"),
        on_delete=models.PROTECT,
        related_name="redemption",
    )
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=2)
    status = models.CharField(
        _("status"), max_length=10, choices=RedemptionStatus.choices, default=RedemptionStatus.HELD
    )
    hold = models.OneToOneField(
        Transfer, verbose_name=_("hold"), on_delete=models.PROTECT, related_name="+"
    )
    settlement = models.OneToOneField(
        Transfer,
        verbose_name=_("settlement"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("asked by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(hours__gt=0), name="redemption_hours"),
        ]

    def __str__(self) -> str:
        return f"{self.beneficiary} ← {self.hours} ({self.get_status_display()})"


class StarAward(models.Model):
    """A star level earned by cumulative confirmed hours, shown in public notice before
    it is awarded; anyone signed in may challenge it during the notice."""

    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("volunteer"), on_delete=models.PROTECT, related_name="stars"
    )
    level = models.PositiveSmallIntegerField(_("stars"))
    hours = models.DecimalField(_("hours at award"), max_digits=10, decimal_places=2)
    status = models.CharField(
        _("status"), max_length=10, choices=AwardStatus.choices, default=AwardStatus.NOTICE
    )
    notice_until = models.DateField(_("public notice until"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("proposed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("star award")
        verbose_name_plural = _("star awards")
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=10), name="star_level_range"
            ),
            models.UniqueConstraint(
                fields=["volunteer", "level"],
                condition=~models.Q(status=AwardStatus.WITHDRAWN),
                name="star_level_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} ★{self.level} ({self.get_status_display()})"


class StarChallenge(models.Model):
    award = models.ForeignKey(
        StarAward, verbose_name=_("award"), on_delete=models.CASCADE, related_name="challenges"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("raised by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=10, choices=ChallengeStatus.choices, default=ChallengeStatus.OPEN
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
    raised_at = models.DateTimeField(_("raised at"), auto_now_add=True)

    class Meta:
        verbose_name = _("challenge")
        verbose_name_plural = _("challenges")
        ordering = ["-raised_at", "id"]

    def __str__(self) -> str:
        return f"{self.award} ({self.get_status_display()})"


class Certificate(models.Model):
    """A service record certificate: what it says is frozen at issue, and anyone holding
    the code can check it."""

    volunteer = models.ForeignKey(
        Volunteer,
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    code = models.CharField(_("verification code"), max_length=20, unique=True)
    content = models.JSONField(_("content"))
    total_hours = models.DecimalField(_("total hours"), max_digits=10, decimal_places=2)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)

    class Meta:
        verbose_name = _("service record certificate")
        verbose_name_plural = _("service record certificates")
        ordering = ["-issued_at", "id"]

    def __str__(self) -> str:
        return self.code
