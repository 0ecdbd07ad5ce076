"""Residents, households and what protects their personal information.

Sensitive fields (identity number, phone, disability, difficulty status,
health notes) are EncryptedTextFields: ciphertext in every dump. Exact
look-ups go through blind-index columns. Counts by priority group come from
`PriorityTally`, kept by the services in the same transaction as each change,
so officials see figures without anyone decrypting records, and a record
anonymized later still counts.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.core.fields import EncryptedTextField

from .choices import AgeBand, ConsentPurpose, RelationKind, Sex

# Fields whose values are sensitive personal information: masked on every screen,
# unmasked only with a purpose, every unmasking logged.
SENSITIVE_FIELDS = (
    "identity_number",
    "phone",
    "disability_category",
    "disability_grade",
    "difficulty",
    "health_notes",
)


def field_label(name: str) -> str:
    """The label people read for a Resident field: the model's own verbose name."""
    return capfirst(str(getattr(Resident._meta.get_field(name), "verbose_name", name)))


def age_on(birth: dt.date | None, day: dt.date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def age_band(age: int | None) -> AgeBand:
    if age is None:
        return AgeBand.UNKNOWN
    if age < 14:
        return AgeBand.UNDER_14
    if age < 18:
        return AgeBand.MINOR
    if age < 60:
        return AgeBand.ADULT
    if age < 80:
        return AgeBand.YOUNG_OLD
    return AgeBand.OLDEST


class Household(models.Model):
    community = models.ForeignKey(
        "regions.Region",
        verbose_name=_("community or village"),
        on_delete=models.PROTECT,
        related_name="household_records",
    )
    address = models.CharField(_("address"), max_length=255)
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = pgettext_lazy("model", "households")
        ordering = ["community_id", "address"]

    def __str__(self) -> str:
        return self.address


class Resident(models.Model):
    community = models.ForeignKey(
        "regions.Region",
        verbose_name=_("community or village"),
        on_delete=models.PROTECT,
        related_name="residents",
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resident",
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=100)
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    # Kept through anonymization, so counts by age stay true.
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    identity_number = EncryptedTextField(_("identity number"))
    identity_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone = EncryptedTextField(pgettext_lazy("person", "phone"))
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    living_alone = models.BooleanField(_("living alone"), default=False)
    left_behind = models.BooleanField(_("left behind (rural)"), default=False)
    disability_category = EncryptedTextField(_("disability category"))
    disability_grade = EncryptedTextField(_("disability grade"))
    difficulty = EncryptedTextField(_("family in difficulty"))
    health_notes = EncryptedTextField(_("health needs"))
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    anonymized_at = models.DateTimeField(_("anonymized at"), null=True, blank=True)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["community_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["identity_index"],
                condition=~models.Q(identity_index=""),
                name="resident_identity_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name or str(_("(anonymized)"))

    def age(self, day: dt.date | None = None) -> int | None:
        return age_on(self.birth_date, day or dt.date.today())

    @property
    def is_elderly(self) -> bool:
        age = self.age()
        return age is not None and age >= 60

    @property
    def is_minor(self) -> bool:
        age = self.age()
        return age is not None and age < 18


class Consent(models.Model):
    """What the resident (or a guardian) agreed to, and until when."""

    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.CASCADE, related_name="consents"
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=ConsentPurpose.choices)
    scope = models.TextField(_("scope"), blank=True)
    given_by = models.ForeignKey(
        Resident,
        verbose_name=_("given by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="consents_given",
        help_text=_("The guardian, when not the resident."),
    )
    given_on = models.DateField(_("given on"))
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} ({self.given_on})"

    @property
    def in_force(self) -> bool:
        return self.withdrawn_on is None


class Relation(models.Model):
    """A guardian, an emergency contact, a proxy (who may act for the resident), or kin
    (who may spend a volunteer's time-bank hours): `person` is the resident's `kind`."""

    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.CASCADE, related_name="relations"
    )
    person = models.ForeignKey(
        Resident, verbose_name=_("person"), on_delete=models.CASCADE, related_name="relations_as"
    )
    kind = models.CharField(_("relation"), max_length=20, choices=RelationKind.choices)
    consent = models.ForeignKey(
        Consent,
        verbose_name=_("consent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="relations",
        help_text=_("For a proxy: the resident's consent to it."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("relation")
        verbose_name_plural = _("relations")
        constraints = [
            models.UniqueConstraint(fields=["resident", "person", "kind"], name="relation_unique"),
            models.CheckConstraint(
                condition=~models.Q(resident=models.F("person")), name="relation_not_to_self"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=RelationKind.PROXY) | models.Q(consent__isnull=False),
                name="relation_proxy_needs_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} → {self.resident} ({self.get_kind_display()})"


class AccessEvent(models.Model):
    """Who saw or exported whose personal information, which fields, why, and when."""

    class Action(models.TextChoices):
        UNMASK = "unmask", _("Unmasked")
        EXPORT = "export", _("Exported")
        DOWNLOAD = "download", _("Downloaded by the resident")
        TASK = "task", _("Read to deliver a service")

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    actor_username = models.CharField(_("username"), max_length=150)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    resident = models.ForeignKey(
        Resident,
        verbose_name=_("whose record"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="access_events",
    )
    resident_ref = models.BigIntegerField(_("record number"))
    community_code = models.CharField(_("community code"), max_length=12, db_index=True)
    fields = models.JSONField(_("fields"), default=list)
    purpose = models.TextField(_("purpose"))

    class Meta:
        verbose_name = _("access event")
        verbose_name_plural = _("access events")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.actor_username} {self.action} {self.resident_ref}"


class Correction(models.Model):
    """A resident asks for their record to be put right: a task for the community worker."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for the community worker")
        DONE = "done", _("Corrected")
        DECLINED = "declined", _("Not corrected")

    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.CASCADE, related_name="corrections"
    )
    # Kept apart from the resident's record so the task is found without a join.
    community_code = models.CharField(_("community code"), max_length=12, db_index=True)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("asked by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    # Residents write their corrections in their own words, often with the right phone
    # number or identity number in them: as sensitive as the fields they correct.
    message = EncryptedTextField(_("what is wrong"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    answer = EncryptedTextField(_("answer"))
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    asked_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        ordering = ["-asked_at", "-id"]

    def __str__(self) -> str:
        return f"{self.resident_id}: {self.get_status_display()}"


class PriorityTally(models.Model):
    """How many residents of a community, born in a year, are in a priority group.

    `group` "" counts everyone. Kept by the services, never recomputed from the
    encrypted fields, so figures need no decryption and survive anonymization.
    """

    community = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="priority_tallies"
    )
    birth_year = models.PositiveSmallIntegerField(help_text="0 when unknown")
    group = models.CharField(max_length=32, blank=True)
    count = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("priority tally")
        verbose_name_plural = _("priority tallies")
        constraints = [
            # No column here is ever NULL (an unknown birth year is 0), so the constraint
            # holds on SQLite too, which ignores NULLS NOT DISTINCT.
            models.UniqueConstraint(
                fields=["community", "birth_year", "group"], name="priority_tally_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(count__gte=0), name="priority_tally_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.birth_year} {self.group}: {self.count}"
