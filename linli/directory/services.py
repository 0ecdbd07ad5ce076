"""Writes to the service directory: organizations, facilities, their hours and accessibility.

Every writer (spreadsheets now; the admin, the demo builder and the API later)
comes through here. Each service checks the actor's role and area, validates
every field and reports all problems at once (`ValidationFailed` with the
field and the reason, in the user's language), then writes inside one
transaction and keeps HSDS change records (`Metadata`) of what it changed.

`actor=None` is a system job (the demo builder, an operator's command line):
no role or area check.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple, TypedDict, TypeVar, Unpack
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.accounts.roles import EDITOR_ROLES
from linli.accounts.selectors import Scope, user_scope
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.regions import codes
from linli.regions.choices import RegionLevel
from linli.regions.models import Region

from .choices import (
    AccessibilityFeature,
    FacilityKind,
    LinkEntity,
    LocationType,
    OrganizationKind,
    ScheduleFrequency,
    Weekday,
)
from .models import (
    Accessibility,
    Address,
    Location,
    Metadata,
    Organization,
    Phone,
    Schedule,
    Service,
)
from .validators import validate_credit_code, validate_point

EVERYWHERE = Scope(everything=True, prefixes=())
# The largest area a DecimalField(max_digits=10, decimal_places=1) holds.
MAX_AREA = Decimal("999999999.9")
AREA_STEP = Decimal("0.1")
WEEKDAY_ORDER = tuple(Weekday.values)

Record = TypeVar("Record", bound=models.Model)


# --- Who may write where ---------------------------------------------------------------


def directory_write_scope(actor: User | None) -> Scope:
    """Where `actor` may write directory records; `PermissionDenied` without a writing role.

    Narrower than `user_scope` when the actor also holds a role that only reads
    (an auditor over the district who is a community worker in one community
    writes in that community only).
    """
    if actor is None:
        return EVERYWHERE
    if not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied()
    scope = user_scope(actor, roles=EDITOR_ROLES)
    if scope.is_empty:
        raise PermissionDenied(
            _("Only community workers, officials and administrators keep the directory.")
        )
    return scope


def _check_covers(scope: Scope, region_code: str | None, message: str) -> None:
    """A record already stored must lie in the actor's area to be changed."""
    if scope.everything:
        return
    if region_code is None or not scope.covers(region_code):
        raise PermissionDenied(message)


def _lock(instance: Record) -> Record:
    """Lock the record's row for the transaction and reload it, so edits start from the truth."""
    model = type(instance)
    list(model._default_manager.select_for_update().filter(pk=instance.pk).values_list("pk"))
    instance.refresh_from_db()
    return instance


# --- Field checks ----------------------------------------------------------------------


class _Errors(dict[str, list[str]]):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self:
            raise ValidationFailed(fields=dict(self))


def _text(
    values: dict[str, Any], field: str, errors: _Errors, *, max_length: int, required: bool = False
) -> None:
    if field not in values:
        return
    value = values[field]
    text = "" if value is None else str(value).strip()
    if required and not text:
        errors.add(field, _("This is required."))
    elif len(text) > max_length:
        errors.add(field, _("At most %(count)s characters.") % {"count": max_length})
    values[field] = text


def _choice(
    values: dict[str, Any],
    field: str,
    choices: type[models.TextChoices],
    errors: _Errors,
    *,
    required: bool,
) -> None:
    if field not in values:
        return
    value = "" if values[field] is None else str(values[field]).strip()
    if not value:
        if required:
            errors.add(field, _("This is required."))
    elif value not in choices.values:
        errors.add(
            field,
            _("Unknown value %(value)s; use one of: %(choices)s.")
            % {"value": value, "choices": ", ".join(str(label) for label in choices.labels)},
        )
    values[field] = value


def _area(values: dict[str, Any], field: str, errors: _Errors) -> None:
    if field not in values or values[field] is None or values[field] == "":
        if field in values:
            values[field] = None
        return
    raw = values[field]
    try:
        if isinstance(raw, bool):
            raise InvalidOperation
        number = Decimal(str(raw))
        if not number.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors.add(field, _("Not a number: %(value)s") % {"value": raw})
        values[field] = None
        return
    if number < 0:
        errors.add(field, _("Cannot be negative."))
    elif number > MAX_AREA:
        errors.add(field, _("At most %(limit)s.") % {"limit": MAX_AREA})
    values[field] = number.quantize(AREA_STEP, rounding=ROUND_HALF_UP)


def _count(values: dict[str, Any], field: str, errors: _Errors) -> None:
    if field not in values or values[field] is None or values[field] == "":
        if field in values:
            values[field] = None
        return
    raw = values[field]
    if isinstance(raw, bool) or not isinstance(raw, int):
        errors.add(field, _("Not a whole number: %(value)s") % {"value": raw})
        values[field] = None
    elif raw < 0:
        errors.add(field, _("Cannot be negative."))
    elif raw > 2_147_483_647:
        errors.add(field, _("At most %(limit)s.") % {"limit": 2_147_483_647})


def _coordinate(values: dict[str, Any], field: str, errors: _Errors) -> None:
    if field not in values or values[field] is None or values[field] == "":
        if field in values:
            values[field] = None
        return
    raw = values[field]
    try:
        if isinstance(raw, bool):
            raise ValueError
        values[field] = float(raw)
    except (TypeError, ValueError):
        errors.add(field, _("Not a number: %(value)s") % {"value": raw})
        values[field] = None


def _date(values: dict[str, Any], field: str, errors: _Errors) -> None:
    if field not in values:
        return
    raw = values[field]
    if isinstance(raw, dt.datetime):
        values[field] = raw.date()
    elif raw is not None and not isinstance(raw, dt.date):
        errors.add(field, _("Not a date: %(value)s") % {"value": raw})
        values[field] = None


def _email(values: dict[str, Any], errors: _Errors) -> None:
    _text(values, "email", errors, max_length=254)
    if values.get("email"):
        try:
            validate_email(values["email"])
        except ValidationError:
            errors.add("email", _("Not an email address."))


def _website(values: dict[str, Any], field: str, errors: _Errors) -> None:
    _text(values, field, errors, max_length=500)
    if values.get(field):
        try:
            URLValidator(schemes=["http", "https"])(values[field])
        except ValidationError:
            errors.add(field, _("Not a web address; it starts with http:// or https://."))


def _phone(values: dict[str, Any], errors: _Errors) -> None:
    _text(values, "phone", errors, max_length=50)
    if values.get("phone") and not any(c.isdigit() for c in values["phone"]):
        errors.add("phone", _("A phone number has digits."))


def _region(
    values: dict[str, Any],
    errors: _Errors,
    *,
    scope: Scope,
    system: bool,
    lowest: bool,
) -> None:
    """Turn a code (or a Region) into a Region inside the scope, or say why not.

    A region outside the actor's area gets the same answer as one that does not
    exist, so nobody learns what lies outside their area by trying codes.
    """
    if "region" not in values:
        return
    value = values["region"]
    if value is None or value == "":
        values["region"] = None
        return
    region: Region | None
    if isinstance(value, Region):
        code, region = value.code, value
    else:
        code = str(value).strip()
        if not codes.is_valid(code):
            errors.add("region", _("A region code has exactly 12 digits."))
            values["region"] = None
            return
        region = Region.objects.filter(code=code).first()
    if region is None or not scope.covers(region.code):
        if system:
            message = _("No region has the code %(code)s.")
        elif lowest:
            message = _("No community or village with the code %(code)s is in your area.")
        else:
            message = _("No region with the code %(code)s is in your area.")
        errors.add("region", message % {"code": code})
        values["region"] = None
        return
    if lowest and region.level != RegionLevel.COMMUNITY:
        errors.add(
            "region",
            _("%(name)s (%(code)s) is a %(level)s: a facility is in a community or village.")
            % {
                "name": region.display_name,
                "code": region.code,
                "level": RegionLevel(region.level).label,
            },
        )
    values["region"] = region


def _unknown_fields(values: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise TypeError(f"Unknown directory fields: {', '.join(unknown)}")


# --- Change records ----------------------------------------------------------------------


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _record(
    *,
    actor: User | None,
    record: models.Model,
    table: str,
    action: str,
    changes: dict[str, tuple[Any, Any]],
) -> None:
    """HSDS change records: one row per field changed, in the transaction of the change."""
    if not changes:
        return
    now = timezone.now()
    who = actor.get_username() if actor is not None else "system"
    Metadata.objects.bulk_create(
        Metadata(
            resource_id=record.pk,
            resource_type=table,
            last_action_date=now,
            last_action_type=action,
            field_name=field,
            previous_value=_as_text(before),
            replacement_value=_as_text(after),
            updated_by=who,
        )
        for field, (before, after) in changes.items()
    )


def _apply(instance: models.Model, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Set the model fields in `values` that differ; return {field: (before, after)}."""
    changes: dict[str, tuple[Any, Any]] = {}
    for field, after in values.items():
        if field == "region" or field == "organization":
            before_id = getattr(instance, f"{field}_id")
            after_id = after.pk if after is not None else None
            if before_id != after_id:
                changes[field] = (before_id, after_id)
                setattr(instance, field, after)
            continue
        before = getattr(instance, field)
        if before != after:
            changes[field] = (before, after)
            setattr(instance, field, after)
    return changes


# --- Organizations -----------------------------------------------------------------------


class _OrganizationDetails(TypedDict, total=False):
    alternate_name: str
    kind: str
    credit_code: str
    region: Region | str | None
    description: str
    email: str
    website: str
    phone: str
    legal_status: str
    year_incorporated: int | None


class OrganizationFields(_OrganizationDetails, total=False):
    """What `organization_update` may change; each key given is set, the others are kept."""

    name: str


class NewOrganizationFields(_OrganizationDetails):
    """What `organization_create` takes: a name, and the details that are known."""

    name: str


ORGANIZATION_FIELDS = OrganizationFields.__required_keys__ | OrganizationFields.__optional_keys__


def _clean_organization(
    values: dict[str, Any], *, scope: Scope, system: bool, instance: Organization | None
) -> dict[str, Any]:
    errors = _Errors()
    _text(values, "name", errors, max_length=255, required=True)
    _text(values, "alternate_name", errors, max_length=255)
    _text(values, "description", errors, max_length=10_000)
    _text(values, "legal_status", errors, max_length=255)
    _choice(values, "kind", OrganizationKind, errors, required=False)
    _email(values, errors)
    _website(values, "website", errors)
    _phone(values, errors)
    if "year_incorporated" in values:
        _count(values, "year_incorporated", errors)
        year = values["year_incorporated"]
        if year is not None and not 1800 <= year <= 2100:
            errors.add("year_incorporated", _("A year between 1800 and 2100."))
    if "credit_code" in values:
        code = ("" if values["credit_code"] is None else str(values["credit_code"])).strip()
        code = code.upper()
        values["credit_code"] = code
        if code:
            try:
                validate_credit_code(code)
            except ValidationError as error:
                errors["credit_code"] = list(error.messages)
            else:
                taken = Organization.objects.filter(credit_code=code)
                if instance is not None:
                    taken = taken.exclude(pk=instance.pk)
                other = taken.only("name").first()
                if other is not None:
                    errors.add(
                        "credit_code",
                        _("%(name)s already has this credit code.") % {"name": other.name},
                    )
    _region(values, errors, scope=scope, system=system, lowest=False)
    region_after = values["region"] if "region" in values else getattr(instance, "region", None)
    if region_after is None and not scope.everything and "region" not in errors:
        errors.add(
            "region",
            _("Give the region the organization belongs to: it decides who may edit it."),
        )
    errors.raise_if_any()
    return values


def _set_phone(*, owner_field: str, owner: models.Model, number: str) -> dict[str, tuple[Any, Any]]:
    """The record's main phone (the first by id) becomes `number`; blank removes it."""
    current = Phone.objects.filter(**{owner_field: owner}).order_by("id").first()
    before = current.number if current else ""
    if before == number:
        return {}
    if current is None:
        Phone.objects.create(**{owner_field: owner}, number=number, type="voice")
    elif not number:
        current.delete()
    else:
        current.number = number
        current.save(update_fields=["number", "last_modified"])
    return {"phone": (before, number)}


@transaction.atomic
def organization_create(
    *, actor: User | None, **fields: Unpack[NewOrganizationFields]
) -> Organization:
    """Add an organization; its credit code, when given, must be valid and not taken."""
    scope = directory_write_scope(actor)
    values: dict[str, Any] = dict(fields)
    _unknown_fields(values, ORGANIZATION_FIELDS)
    values.setdefault("name", "")
    values.setdefault("region", None)
    _clean_organization(values, scope=scope, system=actor is None, instance=None)
    phone = values.pop("phone", "")
    organization = Organization(**values)
    organization.save()
    changes = {k: (None, v) for k, v in values.items() if v not in (None, "")}
    if phone:
        changes |= _set_phone(owner_field="organization", owner=organization, number=phone)
    _record(
        actor=actor,
        record=organization,
        table=LinkEntity.ORGANIZATION,
        action="create",
        changes=changes,
    )
    return organization


@transaction.atomic
def organization_update(
    *, actor: User | None, organization: Organization, **changes: Unpack[OrganizationFields]
) -> Organization:
    """Change the fields given (and only those) of an organization in the actor's area."""
    scope = directory_write_scope(actor)
    values: dict[str, Any] = dict(changes)
    _unknown_fields(values, ORGANIZATION_FIELDS)
    organization = _lock(organization)
    _check_covers(scope, organization.region_id, _("This organization is outside your area."))
    _clean_organization(values, scope=scope, system=actor is None, instance=organization)
    phone = values.pop("phone", None)
    done = _apply(organization, values)
    if done:
        organization.save()
    if phone is not None:
        done |= _set_phone(owner_field="organization", owner=organization, number=phone)
    _record(
        actor=actor,
        record=organization,
        table=LinkEntity.ORGANIZATION,
        action="update",
        changes=done,
    )
    return organization


# --- Facilities --------------------------------------------------------------------------


class _FacilityDetails(TypedDict, total=False):
    alternate_name: str
    organization: Organization | None
    description: str
    address: str
    phone: str
    latitude: float | None
    longitude: float | None
    floor_area_m2: Decimal | float | int | str | None
    activity_area_m2: Decimal | float | int | str | None
    capacity: int | None
    opened_on: dt.date | None
    closed_on: dt.date | None


class FacilityFields(_FacilityDetails, total=False):
    """What `facility_update` may change; each key given is set, the others are kept."""

    name: str
    kind: str
    region: Region | str


class NewFacilityFields(_FacilityDetails):
    """What `facility_create` takes: name, kind and community or village, then details."""

    name: str
    kind: str
    region: Region | str


FACILITY_FIELDS = FacilityFields.__required_keys__ | FacilityFields.__optional_keys__


def _clean_facility(
    values: dict[str, Any], *, scope: Scope, system: bool, instance: Location | None
) -> dict[str, Any]:
    errors = _Errors()
    _text(values, "name", errors, max_length=255, required=True)
    _text(values, "alternate_name", errors, max_length=255)
    _text(values, "description", errors, max_length=10_000)
    _text(values, "address", errors, max_length=255)
    _phone(values, errors)
    _choice(values, "kind", FacilityKind, errors, required=True)
    if "region" in values:
        _region(values, errors, scope=scope, system=system, lowest=True)
        if values["region"] is None and "region" not in errors:
            errors.add("region", _("This is required."))
    organization = values.get("organization")
    if organization is not None and not isinstance(organization, Organization):
        raise TypeError("organization must be an Organization or None")
    for field in ("latitude", "longitude"):
        _coordinate(values, field, errors)
    for field in ("floor_area_m2", "activity_area_m2"):
        _area(values, field, errors)
    _count(values, "capacity", errors)
    for field in ("opened_on", "closed_on"):
        _date(values, field, errors)

    def after(field: str) -> Any:
        return values[field] if field in values else getattr(instance, field, None)

    if "latitude" not in errors and "longitude" not in errors:
        for field, reasons in validate_point(after("latitude"), after("longitude")).items():
            errors[field] = errors.get(field, []) + reasons
    floor, activity = after("floor_area_m2"), after("activity_area_m2")
    if (
        floor is not None
        and activity is not None
        and "floor_area_m2" not in errors
        and "activity_area_m2" not in errors
        and activity > floor
    ):
        errors.add(
            "activity_area_m2",
            _("The activity area (%(activity)s m²) cannot exceed the floor area (%(floor)s m²).")
            % {"activity": activity, "floor": floor},
        )
    opened, closed = after("opened_on"), after("closed_on")
    if opened is not None and closed is not None and closed < opened:
        errors.add("closed_on", _("A facility cannot close before it opened."))
    errors.raise_if_any()
    return values


def _ancestor_names(region: Region) -> dict[str, str]:
    """The province, city and county names of an address in `region` (one query)."""
    wanted: list[str] = []
    code: str | None = region.code
    while code is not None:
        wanted.append(code)
        code = codes.parent_of(code)
    names = {
        r.level: r.name
        for r in Region.objects.filter(code__in=wanted).only("code", "name", "level")
    }
    return {
        "state_province": names.get(RegionLevel.PROVINCE, ""),
        "city": names.get(RegionLevel.CITY, ""),
        "region": names.get(RegionLevel.COUNTY, ""),
    }


def _set_address(*, facility: Location, text: str) -> dict[str, tuple[Any, Any]]:
    """The facility's physical address line (the first by id) becomes `text`; blank removes it."""
    current = (
        Address.objects.filter(location=facility, address_type=LocationType.PHYSICAL)
        .order_by("id")
        .first()
    )
    before = current.address_1 if current else ""
    if before == text:
        return {}
    if current is None:
        places = _ancestor_names(facility.region) if facility.region else {}
        Address.objects.create(location=facility, address_1=text, postal_code="", **places)
    elif not text:
        current.delete()
    else:
        current.address_1 = text
        current.save(update_fields=["address_1", "last_modified"])
    return {"address": (before, text)}


@transaction.atomic
def facility_create(*, actor: User | None, **fields: Unpack[NewFacilityFields]) -> Location:
    """Add a facility: a physical HSDS location with a kind, in a community or village."""
    scope = directory_write_scope(actor)
    values: dict[str, Any] = dict(fields)
    _unknown_fields(values, FACILITY_FIELDS)
    values.setdefault("name", "")
    values.setdefault("kind", "")
    values.setdefault("region", None)
    _clean_facility(values, scope=scope, system=actor is None, instance=None)
    address = values.pop("address", "")
    phone = values.pop("phone", "")
    facility = Location(location_type=LocationType.PHYSICAL, **values)
    facility.save()
    changes = {k: (None, v) for k, v in values.items() if v not in (None, "")}
    if address:
        changes |= _set_address(facility=facility, text=address)
    if phone:
        changes |= _set_phone(owner_field="location", owner=facility, number=phone)
    _record(
        actor=actor, record=facility, table=LinkEntity.LOCATION, action="create", changes=changes
    )
    return facility


@transaction.atomic
def facility_update(
    *, actor: User | None, facility: Location, **changes: Unpack[FacilityFields]
) -> Location:
    """Change the fields given (and only those) of a facility in the actor's area."""
    scope = directory_write_scope(actor)
    values: dict[str, Any] = dict(changes)
    _unknown_fields(values, FACILITY_FIELDS)
    facility = _lock(facility)
    _check_covers(scope, facility.region_id, _("This facility is outside your area."))
    _clean_facility(values, scope=scope, system=actor is None, instance=facility)
    address = values.pop("address", None)
    phone = values.pop("phone", None)
    done = _apply(facility, values)
    if done:
        facility.save()
    if address is not None:
        done |= _set_address(facility=facility, text=address)
    if phone is not None:
        done |= _set_phone(owner_field="location", owner=facility, number=phone)
    _record(actor=actor, record=facility, table=LinkEntity.LOCATION, action="update", changes=done)
    return facility


def _default_language_label(feature: AccessibilityFeature) -> str:
    """Stored descriptions are in the deployment's language, whoever made the change."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(feature.label)


@transaction.atomic
def facility_set_accessibility(
    *, actor: User | None, facility: Location, features: Sequence[str]
) -> list[Accessibility]:
    """The facility's accessibility features become exactly `features` (AccessibilityFeature codes).

    Each is an HSDS accessibility row whose `details` is the code and whose
    description its label; rows that are not one of Linli's features (free text
    from an HSDS dataset) are left alone.
    """
    scope = directory_write_scope(actor)
    wanted: list[str] = []
    unknown: list[str] = []
    for raw in features:
        code = str(raw).strip()
        if code not in AccessibilityFeature.values:
            unknown.append(code)
        elif code not in wanted:
            wanted.append(code)
    if unknown:
        raise ValidationFailed(
            fields={
                "features": [
                    _("Unknown accessibility feature %(value)s; use one of: %(choices)s.")
                    % {
                        "value": ", ".join(unknown),
                        "choices": ", ".join(str(f.label) for f in AccessibilityFeature),
                    }
                ]
            }
        )
    facility = _lock(facility)
    _check_covers(scope, facility.region_id, _("This facility is outside your area."))
    rows = list(
        Accessibility.objects.filter(location=facility, details__in=AccessibilityFeature.values)
    )
    have = {row.details for row in rows}
    if have != set(wanted) or len(rows) != len(have):
        Accessibility.objects.filter(pk__in=[row.pk for row in rows]).delete()
        rows = Accessibility.objects.bulk_create(
            Accessibility(
                location=facility,
                details=code,
                description=_default_language_label(AccessibilityFeature(code)),
            )
            for code in sorted(wanted, key=AccessibilityFeature.values.index)
        )
        _record(
            actor=actor,
            record=facility,
            table=LinkEntity.LOCATION,
            action="update",
            changes={
                "accessibility": (
                    ",".join(sorted(have, key=_feature_order)),
                    ",".join(sorted(wanted, key=_feature_order)),
                )
            },
        )
    return rows


def _feature_order(code: str) -> int:
    values = AccessibilityFeature.values
    return values.index(code) if code in values else len(values)


# --- Weekly hours --------------------------------------------------------------------------


class WeeklyHours(NamedTuple):
    """Open on these days (Weekday codes, "MO"…"SU") from `opens` to `closes`."""

    days: tuple[str, ...]
    opens: dt.time
    closes: dt.time


HoursInput = WeeklyHours | tuple[Sequence[str] | str, dt.time, dt.time]


def weekly_hours(hours: Iterable[HoursInput]) -> list[WeeklyHours]:
    """Normalise (days, opens, closes) triples: days as Weekday codes in week order."""
    normal = []
    for days, opens, closes in hours:
        day_list = days.split(",") if isinstance(days, str) else list(days)
        codes_ = [d.strip().upper() for d in day_list if d.strip()]
        ordered = tuple(sorted(set(codes_), key=_day_order))
        normal.append(WeeklyHours(ordered, opens, closes))
    return normal


def _day_order(code: str) -> int:
    return WEEKDAY_ORDER.index(code) if code in WEEKDAY_ORDER else len(WEEKDAY_ORDER)


def _describe(entry: WeeklyHours) -> str:
    days = ", ".join(str(Weekday(d).label) if d in WEEKDAY_ORDER else d for d in entry.days)
    return f"{days} {entry.opens:%H:%M}–{entry.closes:%H:%M}"


def weekly_hours_errors(hours: Sequence[WeeklyHours]) -> list[str]:
    """Why these hours cannot be stored: unknown days, closing before opening, overlaps."""
    problems: list[str] = []
    by_day: dict[str, list[WeeklyHours]] = {}
    for entry in hours:
        unknown = [d for d in entry.days if d not in WEEKDAY_ORDER]
        if not entry.days:
            problems.append(_("Give the days these hours are for."))
        elif unknown:
            problems.append(
                _("Unknown day %(value)s; use %(choices)s.")
                % {"value": ", ".join(unknown), "choices": ",".join(WEEKDAY_ORDER)}
            )
        if not isinstance(entry.opens, dt.time) or not isinstance(entry.closes, dt.time):
            problems.append(_("Opening and closing are times of day."))
            continue
        if entry.closes <= entry.opens:
            problems.append(
                _("%(hours)s: closes before it opens (or when it opens).")
                % {"hours": _describe(entry)}
            )
            continue
        for day in entry.days:
            by_day.setdefault(day, []).append(entry)
    for day in WEEKDAY_ORDER:
        entries = sorted(by_day.get(day, []), key=lambda e: e.opens)
        for first, second in itertools.pairwise(entries):
            if second.opens < first.closes:
                problems.append(
                    _("On %(day)s, %(first)s and %(second)s overlap.")
                    % {
                        "day": Weekday(day).label,
                        "first": f"{first.opens:%H:%M}–{first.closes:%H:%M}",
                        "second": f"{second.opens:%H:%M}–{second.closes:%H:%M}",
                    }
                )
    return problems


def _utc_offset_hours() -> float:
    offset = dt.datetime.now(ZoneInfo(settings.TIME_ZONE)).utcoffset() or dt.timedelta()
    return offset.total_seconds() / 3600


def current_weekly_hours(schedules: Iterable[Schedule]) -> list[WeeklyHours]:
    """The weekly hours these schedule rows say, in week order (other rows are skipped)."""
    hours = [
        WeeklyHours(tuple(d for d in s.byday.split(",") if d), s.opens_at, s.closes_at)
        for s in schedules
        if s.freq == ScheduleFrequency.WEEKLY and s.opens_at is not None and s.closes_at is not None
    ]
    return sorted(
        weekly_hours(hours), key=lambda h: (_day_order(h.days[0]) if h.days else 9, h.opens)
    )


@transaction.atomic
def schedule_set_weekly(
    *,
    actor: User | None,
    facility: Location | None = None,
    service: Service | None = None,
    hours: Sequence[HoursInput],
) -> list[Schedule]:
    """A facility's (or a service's) weekly hours become exactly `hours`.

    Each (days, opens, closes) is one HSDS schedule row: freq WEEKLY, byday
    "MO,TU", opens_at and closes_at. Other schedules (monthly ones, those of a
    service at one facility) are left alone. Unchanged hours write nothing.
    """
    scope = directory_write_scope(actor)
    normal = weekly_hours(hours)
    problems = weekly_hours_errors(normal)
    if problems:
        raise ValidationFailed(fields={"hours": problems})
    owner: dict[str, Any]
    table: str
    record: models.Model
    if facility is not None and service is None:
        facility = _lock(facility)
        _check_covers(scope, facility.region_id, _("This facility is outside your area."))
        owner, record, table = {"location": facility}, facility, LinkEntity.LOCATION
    elif service is not None and facility is None:
        service = _lock(service)
        region_code = service.organization.region_id if service.organization else None
        _check_covers(scope, region_code, _("This service is outside your area."))
        owner, record, table = {"service": service}, service, LinkEntity.SERVICE
    else:
        raise TypeError("Give exactly one of facility and service.")
    existing = list(
        Schedule.objects.filter(
            **owner, service_at_location=None, freq=ScheduleFrequency.WEEKLY
        ).order_by("id")
    )
    before = current_weekly_hours(existing)
    after = sorted(normal, key=lambda h: (_day_order(h.days[0]), h.opens))
    if before == after and len(existing) == len(before):
        return existing
    Schedule.objects.filter(pk__in=[s.pk for s in existing]).delete()
    offset = _utc_offset_hours()
    rows = Schedule.objects.bulk_create(
        Schedule(
            **owner,
            freq=ScheduleFrequency.WEEKLY,
            byday=",".join(entry.days),
            opens_at=entry.opens,
            closes_at=entry.closes,
            timezone=offset,
        )
        for entry in after
    )
    _record(
        actor=actor,
        record=record,
        table=table,
        action="update",
        changes={"hours": (_hours_text(before), _hours_text(after))},
    )
    return rows


def _hours_text(hours: Sequence[WeeklyHours]) -> str:
    return "; ".join(f"{','.join(h.days)} {h.opens:%H:%M}-{h.closes:%H:%M}" for h in hours)
