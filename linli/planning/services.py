"""Writes of the planning app: a deployment's own indicators and its targets.

Check, then act: every input is validated first (a spec through specs.validate_spec,
which names the part and the reason), permission is checked against the scope of the
roles that set targets, and the write is one transaction.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.selectors import user_scope
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.regions.models import Region

from .choices import Direction, Origin, Section, Unit
from .models import Indicator, IndicatorTarget
from .specs import validate_spec

# Who sets a region's targets: officials of that region or above. Defaults (no region)
# and indicators are the whole deployment's, so only a system administrator's.
TARGET_ROLES = (Role.DISTRICT_OFFICIAL, Role.CITY_OFFICIAL, Role.SYSTEM_ADMIN)


def _may_define(actor: Any) -> None:
    if actor is not None and not user_scope(actor, roles=(Role.SYSTEM_ADMIN,)).everything:
        raise PermissionDenied(_("Only a system administrator defines indicators and defaults."))


def _choice(value: str, choices: list[str], field: str, errors: dict[str, list[str]]) -> None:
    if value not in choices:
        errors[field] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}]


def _decimal(value: Any, field: str, errors: dict[str, list[str]]) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[field] = [_("Not a number.")]
        return None
    if not number.is_finite():
        errors[field] = [_("Not a number.")]
        return None
    return number


@transaction.atomic
def indicator_define(
    *,
    actor: Any,
    code: str,
    name_zh: str,
    name_en: str = "",
    unit: str = Unit.PERCENT,
    direction: str = Direction.UP,
    scale: Any = 100,
    spec: Any,
    numerator_text: str = "",
    denominator_text: str = "",
    source: str = "",
) -> Indicator:
    """A deployment's own indicator, computed by a declarative spec."""
    _may_define(actor)
    errors: dict[str, list[str]] = {}
    indicator = Indicator(
        code=(code or "").strip(),
        name_zh=(name_zh or "").strip(),
        name_en=(name_en or "").strip(),
        section=Section.LOCAL,
        unit=unit,
        direction=direction,
        numerator_text=numerator_text,
        denominator_text=denominator_text,
        source=source,
        origin=Origin.DEPLOYMENT,
        verified=True,
        order=1000,
    )
    _choice(unit, list(Unit.values), "unit", errors)
    _choice(direction, list(Direction.values), "direction", errors)
    number = _decimal(scale, "scale", errors)
    if number is not None and number <= 0:
        errors["scale"] = [_("The scale must be greater than zero.")]
    try:
        indicator.spec = validate_spec(spec)
    except ValidationFailed as error:
        errors.update(error.fields)
    if not indicator.name_zh:
        errors["name_zh"] = [_("Required.")]
    if indicator.code and Indicator.objects.filter(code=indicator.code).exists():
        errors["code"] = [_("An indicator with this code exists already.")]
    if errors:
        raise ValidationFailed(fields=errors)
    indicator.scale = number or Decimal(1)
    try:
        indicator.full_clean(exclude=["spec"])
    except Exception as error:  # django ValidationError: turn into ours, field by field
        raise ValidationFailed(
            fields={k: [str(m) for m in v] for k, v in getattr(error, "message_dict", {}).items()}
        ) from None
    indicator.save()
    return indicator


@transaction.atomic
def indicator_spec_set(*, actor: Any, indicator: Indicator, spec: Any) -> Indicator:
    """Give an indicator its own computation (or, with None, back to the built-in one)."""
    _may_define(actor)
    indicator.spec = None if spec is None else validate_spec(spec)
    indicator.save(update_fields=["spec", "updated_at"])
    return indicator


@transaction.atomic
def target_set(
    *,
    actor: Any,
    indicator: Indicator,
    region: Region | None,
    year: Any,
    value: Any,
    is_baseline: bool = False,
    note: str = "",
) -> IndicatorTarget:
    """Set a region's own target (or baseline) for a year; it wins over its ancestors'."""
    errors: dict[str, list[str]] = {}
    try:
        year_number = int(year)
    except (TypeError, ValueError):
        year_number = 0
    if not 1949 <= year_number <= 2100:
        errors["year"] = [_("A year from 1949 to 2100.")]
    number = _decimal(value, "value", errors)
    if number is not None and abs(number) >= Decimal("1e11"):
        errors["value"] = [_("Too large.")]
    if errors:
        raise ValidationFailed(fields=errors)
    if actor is not None:
        if region is None:
            _may_define(actor)
        elif not user_scope(actor, roles=TARGET_ROLES).covers(region.code):
            raise PermissionDenied(_("You may set targets only for regions in your area."))
    row, _created = IndicatorTarget.objects.update_or_create(
        indicator=indicator,
        region=region,
        year=year_number,
        is_baseline=is_baseline,
        defaults={"value": number, "note": note, "set_by": actor},
    )
    return row


@transaction.atomic
def target_remove(*, actor: Any, target: IndicatorTarget) -> None:
    if actor is not None:
        if target.region_id is None:
            _may_define(actor)
        elif not user_scope(actor, roles=TARGET_ROLES).covers(target.region_id):
            raise PermissionDenied(_("You may remove targets only for regions in your area."))
    target.delete()
