"""The service directory: HSDS 3.0 underneath, the plan's words on top.

Every table of HSDS 3.0 that the directory exchanges has a model here with the
HSDS field names, so a dataset imports and exports field by field. Linli's own
fields (an organization's kind and credit code, a facility's kind, region,
areas and capacity, a service's fee kind and delivery modes) sit beside them.
Taxonomy terms attach to records through HSDS attributes (`Attribute`), and a
facility's accessibility features are HSDS accessibility rows: one truth each,
which both the pages and the HSDS API read.
"""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .choices import (
    FacilityKind,
    FeeKind,
    LocationType,
    OrganizationKind,
    ScheduleFrequency,
    ServiceStatus,
    Weekday,
)
from .validators import validate_credit_code


class HsdsRecord(models.Model):
    """A record with an HSDS identifier (a UUID) and a last-modified time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    last_modified = models.DateTimeField(_("last modified"), auto_now=True, db_index=True)

    class Meta:
        abstract = True


def _text(verbose: str, **options: object) -> models.TextField:
    return models.TextField(_(verbose), blank=True, default="", **options)  # type: ignore[arg-type]


class Organization(HsdsRecord):
    name = models.CharField(_("name"), max_length=255)
    alternate_name = models.CharField(_("alternate name"), max_length=255, blank=True)
    description = _text("description")
    email = models.EmailField(_("email"), blank=True)
    website = models.URLField(_("website"), blank=True, max_length=500)
    tax_status = models.CharField(_("tax status"), max_length=255, blank=True)
    tax_id = models.CharField(_("tax id"), max_length=255, blank=True)
    year_incorporated = models.PositiveSmallIntegerField(
        _("year incorporated"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1800), MaxValueValidator(2100)],
    )
    legal_status = models.CharField(_("legal status"), max_length=255, blank=True)
    logo = models.CharField(_("logo"), max_length=500, blank=True)
    uri = models.URLField(_("URI"), blank=True, max_length=500)
    parent_organization = models.ForeignKey(
        "self",
        verbose_name=_("parent organization"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="branches",
    )
    # Linli's own fields.
    kind = models.CharField(_("kind"), max_length=32, choices=OrganizationKind.choices, blank=True)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        blank=True,
        validators=[validate_credit_code],
    )
    verified = models.BooleanField(_("verified"), default=False)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organizations",
        help_text=_("Where the organization is registered; it decides who may edit it."),
    )

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~models.Q(credit_code=""),
                name="organization_credit_code_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Program(HsdsRecord):
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        related_name="programs",
    )
    name = models.CharField(_("name"), max_length=255)
    alternate_name = models.CharField(_("alternate name"), max_length=255, blank=True)
    description = _text("description")

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Taxonomy(HsdsRecord):
    name = models.CharField(_("name"), max_length=255)
    description = _text("description")
    uri = models.CharField(_("URI"), max_length=500, blank=True)
    version = models.CharField(_("version"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("taxonomy")
        verbose_name_plural = _("taxonomies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TaxonomyTerm(HsdsRecord):
    """A category of service (助餐, meal assistance) or a priority group (独居老人)."""

    taxonomy_ref = models.ForeignKey(
        Taxonomy,
        verbose_name=_("taxonomy"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="terms",
        db_column="taxonomy_id",
    )
    code = models.CharField(_("code"), max_length=100, blank=True, db_index=True)
    name = models.CharField(_("name"), max_length=255)
    name_en = models.CharField(_("English name"), max_length=255, blank=True)
    description = _text("description")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    # HSDS's free-text taxonomy name, for terms from a taxonomy not recorded as a row.
    taxonomy = models.CharField(_("taxonomy name"), max_length=255, blank=True)
    taxonomy_detail = models.CharField(_("taxonomy detail"), max_length=500, blank=True)
    language = models.CharField(_("language"), max_length=20, blank=True)
    term_uri = models.CharField(_("term URI"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("taxonomy term")
        verbose_name_plural = _("taxonomy terms")
        ordering = ["code", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["taxonomy_ref", "code"],
                condition=~models.Q(code=""),
                name="taxonomy_term_code_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name


class Service(HsdsRecord):
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="services",
    )
    program = models.ForeignKey(
        Program,
        verbose_name=_("program"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="services",
    )
    name = models.CharField(_("name"), max_length=255)
    alternate_name = models.CharField(_("alternate name"), max_length=255, blank=True)
    description = _text("description")
    url = models.URLField(_("URL"), blank=True, max_length=500)
    email = models.EmailField(_("email"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ServiceStatus.choices,
        default=ServiceStatus.ACTIVE,
        db_index=True,
    )
    interpretation_services = _text("interpretation services")
    application_process = _text("application process")
    fees_description = _text("fees description")
    wait_time = models.CharField(_("wait time"), max_length=255, blank=True)
    fees = _text("fees")
    accreditations = _text("accreditations")
    eligibility_description = _text("eligibility")
    minimum_age = models.PositiveSmallIntegerField(
        _("minimum age"), null=True, blank=True, validators=[MaxValueValidator(150)]
    )
    maximum_age = models.PositiveSmallIntegerField(
        _("maximum age"), null=True, blank=True, validators=[MaxValueValidator(150)]
    )
    assured_date = models.DateField(_("assured on"), null=True, blank=True)
    assurer_email = models.EmailField(_("assurer email"), blank=True)
    licenses = _text("licences")
    alert = _text("alert")
    # Linli's own fields.
    fee_kind = models.CharField(
        _("fee"), max_length=12, choices=FeeKind.choices, default=FeeKind.UNKNOWN
    )
    fee_amount = models.DecimalField(
        _("fee amount (yuan)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    at_facility = models.BooleanField(_("delivered at a facility"), default=True)
    at_home = models.BooleanField(_("delivered at home"), default=False)
    online = models.BooleanField(_("delivered online"), default=False)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name"]
        # Lists page through services by name (HSDS API, admin): an index walks to the page.
        indexes = [models.Index(fields=["name", "id"], name="service_name_id_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minimum_age__isnull=True)
                | models.Q(maximum_age__isnull=True)
                | models.Q(minimum_age__lte=models.F("maximum_age")),
                name="service_age_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Location(HsdsRecord):
    """An HSDS location; a physical one with a kind is what Linli calls a facility."""

    location_type = models.CharField(
        _("location type"),
        max_length=10,
        choices=LocationType.choices,
        default=LocationType.PHYSICAL,
    )
    url = models.URLField(_("URL"), blank=True, max_length=500)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="locations",
    )
    name = models.CharField(_("name"), max_length=255, blank=True)
    alternate_name = models.CharField(_("alternate name"), max_length=255, blank=True)
    description = _text("description")
    transportation = _text("transportation")
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    external_identifier = models.CharField(_("external identifier"), max_length=255, blank=True)
    external_identifier_type = models.CharField(
        _("external identifier type"), max_length=255, blank=True
    )
    # Linli's own fields: what planning measures.
    kind = models.CharField(
        _("facility kind"), max_length=40, choices=FacilityKind.choices, blank=True, db_index=True
    )
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("community or village"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="locations",
    )
    floor_area_m2 = models.DecimalField(
        _("floor area (m²)"),
        max_digits=10,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    activity_area_m2 = models.DecimalField(
        _("resident activity area (m²)"),
        max_digits=10,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    capacity = models.PositiveIntegerField(_("capacity (people)"), null=True, blank=True)
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(floor_area_m2__isnull=True)
                | models.Q(activity_area_m2__isnull=True)
                | models.Q(activity_area_m2__lte=models.F("floor_area_m2")),
                name="location_activity_area_within_floor_area",
            ),
            models.CheckConstraint(
                condition=models.Q(opened_on__isnull=True)
                | models.Q(closed_on__isnull=True)
                | models.Q(opened_on__lte=models.F("closed_on")),
                name="location_opened_before_closed",
            ),
        ]

    def __str__(self) -> str:
        return self.name or str(self.id)


class ServiceAtLocation(HsdsRecord):
    service = models.ForeignKey(
        Service,
        verbose_name=_("service"),
        on_delete=models.CASCADE,
        related_name="service_at_locations",
    )
    location = models.ForeignKey(
        Location,
        verbose_name=_("facility"),
        on_delete=models.CASCADE,
        related_name="service_at_locations",
    )
    description = _text("description")

    class Meta:
        verbose_name = _("service at a facility")
        verbose_name_plural = _("services at facilities")

    def __str__(self) -> str:
        return f"{self.service} @ {self.location}"


class Address(HsdsRecord):
    location = models.ForeignKey(
        Location, verbose_name=_("facility"), on_delete=models.CASCADE, related_name="addresses"
    )
    attention = models.CharField(_("attention"), max_length=255, blank=True)
    address_1 = models.CharField(_("address"), max_length=255)
    address_2 = models.CharField(_("address, second line"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=255)
    region = models.CharField(_("district"), max_length=255, blank=True)
    state_province = models.CharField(_("province"), max_length=255)
    postal_code = models.CharField(_("postal code"), max_length=20)
    country = models.CharField(_("country"), max_length=2, default="CN")
    address_type = models.CharField(
        _("address type"),
        max_length=10,
        choices=LocationType.choices,
        default=LocationType.PHYSICAL,
    )

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")

    def __str__(self) -> str:
        return self.address_1


class Contact(HsdsRecord):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="contacts"
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="contacts"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="contacts",
    )
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, null=True, blank=True, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=255, blank=True)
    title = models.CharField(_("job title"), max_length=255, blank=True)
    department = models.CharField(_("department"), max_length=255, blank=True)
    email = models.EmailField(_("email"), blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.name or self.email


class Phone(HsdsRecord):
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, null=True, blank=True, related_name="phones"
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="phones"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="phones"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="phones"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation, on_delete=models.CASCADE, null=True, blank=True, related_name="phones"
    )
    number = models.CharField(_("number"), max_length=50)
    extension = models.PositiveIntegerField(_("extension"), null=True, blank=True)
    type = models.CharField(_("type"), max_length=50, blank=True)
    description = _text("description")

    class Meta:
        verbose_name = _("phone")
        verbose_name_plural = _("phones")

    def __str__(self) -> str:
        return self.number


class Schedule(HsdsRecord):
    """When a service, a facility or a service at a facility is open (HSDS, iCal-like)."""

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="schedules"
    )
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, null=True, blank=True, related_name="schedules"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="schedules",
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    dtstart = models.DateField(_("first day"), null=True, blank=True)
    timezone = models.FloatField(_("UTC offset (hours)"), null=True, blank=True)
    until = models.DateField(_("until"), null=True, blank=True)
    count = models.PositiveIntegerField(_("count"), null=True, blank=True)
    wkst = models.CharField(_("week starts on"), max_length=2, choices=Weekday.choices, blank=True)
    freq = models.CharField(
        _("frequency"), max_length=7, choices=ScheduleFrequency.choices, blank=True
    )
    interval = models.PositiveIntegerField(_("interval"), null=True, blank=True)
    byday = models.CharField(_("days"), max_length=100, blank=True, help_text="MO,TU,WE")
    byweekno = models.CharField(_("weeks"), max_length=100, blank=True)
    bymonthday = models.CharField(_("days of the month"), max_length=100, blank=True)
    byyearday = models.CharField(_("days of the year"), max_length=100, blank=True)
    description = _text("description")
    opens_at = models.TimeField(_("opens at"), null=True, blank=True)
    closes_at = models.TimeField(_("closes at"), null=True, blank=True)
    schedule_link = models.URLField(_("schedule link"), blank=True, max_length=500)
    attending_type = models.CharField(_("attending type"), max_length=255, blank=True)
    notes = _text("notes")

    class Meta:
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(opens_at__isnull=True)
                | models.Q(closes_at__isnull=True)
                | models.Q(opens_at__lt=models.F("closes_at")),
                name="schedule_opens_before_it_closes",
            ),
        ]

    def __str__(self) -> str:
        return self.description or f"{self.byday} {self.opens_at}-{self.closes_at}"


class ServiceArea(HsdsRecord):
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="service_areas"
    )
    name = models.CharField(_("name"), max_length=255, blank=True)
    description = _text("description")
    extent = _text("extent")
    extent_type = models.CharField(_("extent type"), max_length=50, blank=True)
    uri = models.CharField(_("URI"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("service area")
        verbose_name_plural = _("service areas")

    def __str__(self) -> str:
        return self.name


class Language(HsdsRecord):
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="languages"
    )
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, null=True, blank=True, related_name="languages"
    )
    phone = models.ForeignKey(
        Phone, on_delete=models.CASCADE, null=True, blank=True, related_name="languages"
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    code = models.CharField(_("code"), max_length=20, blank=True)
    note = _text("note")

    class Meta:
        verbose_name = _("language")
        verbose_name_plural = _("languages")

    def __str__(self) -> str:
        return self.name or self.code


class Funding(HsdsRecord):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="funding"
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="funding"
    )
    source = _text("source")

    class Meta:
        verbose_name = _("funding")
        verbose_name_plural = _("funding")

    def __str__(self) -> str:
        return self.source[:50]


class CostOption(HsdsRecord):
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="cost_options", null=True, blank=True
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    option = _text("option")
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    amount = models.DecimalField(
        _("amount"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    amount_description = _text("amount description")

    class Meta:
        verbose_name = _("cost option")
        verbose_name_plural = _("cost options")

    def __str__(self) -> str:
        return self.option[:50]


class Accessibility(HsdsRecord):
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="accessibility", null=True, blank=True
    )
    description = _text("description")
    # For features Linli records, `details` holds the AccessibilityFeature code.
    details = _text("details")
    url = models.URLField(_("URL"), blank=True, max_length=500)

    class Meta:
        verbose_name = _("accessibility feature")
        verbose_name_plural = _("accessibility features")

    def __str__(self) -> str:
        return self.description[:50] or self.details[:50]


class RequiredDocument(HsdsRecord):
    service = models.ForeignKey(
        Service,
        on_delete=models.CASCADE,
        related_name="required_documents",
        null=True,
        blank=True,
    )
    document = _text("document")
    uri = models.URLField(_("URI"), blank=True, max_length=500)

    class Meta:
        verbose_name = _("required document")
        verbose_name_plural = _("required documents")

    def __str__(self) -> str:
        return self.document[:50]


class OrganizationIdentifier(HsdsRecord):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="organization_identifiers"
    )
    identifier_scheme = models.CharField(_("scheme"), max_length=100, blank=True)
    identifier_type = models.CharField(_("type"), max_length=255, blank=True)
    identifier = models.CharField(_("identifier"), max_length=255)

    class Meta:
        verbose_name = _("organization identifier")
        verbose_name_plural = _("organization identifiers")

    def __str__(self) -> str:
        return self.identifier


class Attribute(HsdsRecord):
    """A taxonomy term attached to any record: a service's category, its eligible groups."""

    link_id = models.UUIDField(_("linked record"))
    taxonomy_term = models.ForeignKey(
        TaxonomyTerm,
        verbose_name=_("taxonomy term"),
        on_delete=models.PROTECT,
        related_name="attributes",
    )
    link_type = models.CharField(_("link type"), max_length=100, blank=True)
    link_entity = models.CharField(_("linked table"), max_length=50)
    value = _text("value")

    class Meta:
        verbose_name = _("attribute")
        verbose_name_plural = _("attributes")
        indexes = [
            models.Index(fields=["link_entity", "link_id"]),
            models.Index(fields=["taxonomy_term", "link_entity", "link_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.link_entity}:{self.link_id} {self.taxonomy_term_id}"


class Metadata(HsdsRecord):
    """HSDS change records: who changed which field of which record, and when."""

    resource_id = models.UUIDField(_("record"))
    resource_type = models.CharField(_("table"), max_length=50)
    last_action_date = models.DateTimeField(_("changed at"))
    last_action_type = models.CharField(_("change"), max_length=50)
    field_name = models.CharField(_("field"), max_length=100)
    previous_value = _text("previous value")
    replacement_value = _text("new value")
    updated_by = models.CharField(_("changed by"), max_length=255)

    class Meta:
        verbose_name = _("change record")
        verbose_name_plural = _("change records")
        indexes = [models.Index(fields=["resource_type", "resource_id"])]

    def __str__(self) -> str:
        return f"{self.resource_type}.{self.field_name}"
