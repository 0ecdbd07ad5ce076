"""Writes of the Open311 façade: partner keys, and a partner's request into the one state machine.

A partner's key is shown once, when it is issued; only its SHA-256 and its first
characters (to recognise it in a list) are kept, so a leaked database leaks no key.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from linli.core.errors import ValidationFailed
from linli.regions.choices import RegionLevel
from linli.regions.models import Region
from linli.requests.choices import Urgency
from linli.requests.models import Open311Partner, ServiceRequest
from linli.requests.services import RequestInput, request_create

from .attributes import attributes_read
from .selectors import key_hash, open311_service

KEY_BYTES = 32
PREFIX_LENGTH = 8

# Our field names → the Open311 parameters a partner sent, so that every error names
# something the partner can find in its own request.
PARAMETER_OF = {
    "service": "service_code",
    "latitude": "lat",
    "longitude": "long",
    "address": "address_string",
    "community": "address_id",
    "contact_phone": "phone",
    "contact_name": "last_name",
    "description": "description",
    "urgency": "attribute[urgency]",
    "window_start": "attribute[wanted_from]",
    "window_end": "attribute[wanted_until]",
}


def _new_key() -> tuple[str, str, str]:
    key = secrets.token_urlsafe(KEY_BYTES)
    return key, key[:PREFIX_LENGTH], key_hash(key)


def _check_partner(name: str, region: Region | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("Give the partner's name.")]
    elif len(name.strip()) > 200:
        errors["name"] = [_("At most 200 characters.")]
    elif Open311Partner.objects.filter(name=name.strip()).exists():
        errors["name"] = [_("A partner with this name exists already.")]
    if region is None:
        errors["region"] = [_("No such region.")]
    return errors


@transaction.atomic
def open311_partner_issue(*, name: str, region: Region | None) -> tuple[Open311Partner, str]:
    """A new partner and its key. The key is returned once and never stored."""
    errors = _check_partner(name, region)
    if errors or region is None:
        raise ValidationFailed(fields=errors)
    key, prefix, digest = _new_key()
    try:
        with transaction.atomic():
            partner = Open311Partner.objects.create(
                name=name.strip(), region=region, key_prefix=prefix, key_hash=digest
            )
    except IntegrityError as error:  # the same name issued at the same moment
        raise ValidationFailed(
            fields={"name": [_("A partner with this name exists already.")]}
        ) from error
    return partner, key


def open311_key_assign(*, partner: Open311Partner) -> str:
    """Give a partner not yet saved (the admin's add form) its key; returned this once."""
    key, partner.key_prefix, partner.key_hash = _new_key()
    return key


@transaction.atomic
def open311_key_rotate(*, partner: Open311Partner) -> str:
    """A new key for a partner; the old one stops working at once."""
    key, prefix, digest = _new_key()
    Open311Partner.objects.filter(pk=partner.pk).update(key_prefix=prefix, key_hash=digest)
    partner.key_prefix, partner.key_hash = prefix, digest
    return key


# --- a partner's request -------------------------------------------------------------


@dataclass
class Open311Submission:
    """A POST requests.{format} as read from the form, before any business check."""

    service_code: str = ""
    lat: float | None = None
    long: float | None = None
    address_string: str = ""
    address_id: str = ""
    description: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    email: str = ""
    attributes: dict[str, list[str]] = field(default_factory=dict)


_CJK = re.compile(r"[\u3400-\u9fff]")


def contact_name(first_name: str, last_name: str) -> str:
    """王 + 秀英 → 王秀英 (family name first, no space); Ada + Lovelace → Ada Lovelace."""
    first, last = first_name.strip(), last_name.strip()
    if _CJK.search(first + last):
        return last + first
    return " ".join(part for part in (first, last) if part)


def community_for_address(text: str, *, within: Region) -> Region | None:
    """The community or village of the partner's region whose name the address names.

    Without a geocoder this is what an address alone can tell: a partner serving one
    community needs to say no more; otherwise the longest community name found in the
    address wins, and two different ones of that length are too ambiguous to guess."""
    if within.level == RegionLevel.COMMUNITY:
        return within
    lowered = text.lower()
    found: list[tuple[int, Region]] = []
    for region in Region.objects.filter(
        level=RegionLevel.COMMUNITY, code__startswith=within.prefix
    ).only("code", "name", "name_en", "level"):
        for candidate in (region.name, region.name_en):
            if candidate and candidate.lower() in lowered:
                found.append((len(candidate), region))
                break
    if not found:
        return None
    longest = max(length for length, _region in found)
    best = {region.code: region for length, region in found if length == longest}
    return next(iter(best.values())) if len(best) == 1 else None


def _errors_as_parameters(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    named: dict[str, list[str]] = {}
    for name, reasons in fields.items():
        named.setdefault(PARAMETER_OF.get(name, name), []).extend(reasons)
    return named


def open311_request_create(
    *, partner: Open311Partner, submission: Open311Submission
) -> ServiceRequest:
    """Check a partner's request the Open311 way, then create it through `request_create`,
    the same checks, triage and state machine as everyone's. Errors are keyed by the
    Open311 parameter they are about."""
    errors: dict[str, list[str]] = {}
    code = submission.service_code.strip()
    if not code:
        errors["service_code"] = [_("Give a service_code (see services.xml).")]
    elif open311_service(code) is None:
        errors["service_code"] = [_("Unknown service code %(code)s.") % {"code": code}]
    has_point = submission.lat is not None or submission.long is not None
    if not has_point and not submission.address_string.strip() and not submission.address_id:
        errors["location"] = [
            _("Say where: lat and long, address_string, or address_id (a community's code).")
        ]
    community: Region | None = None
    if submission.address_id:
        community = Region.objects.filter(code=submission.address_id.strip()).first()
        if community is None or community.level != RegionLevel.COMMUNITY:
            errors["address_id"] = [
                _("address_id is the 12-digit code of a community or village: %(code)s is not.")
                % {"code": submission.address_id}
            ]
        elif not community.code.startswith(partner.region.prefix):
            errors["address_id"] = [_("This community is outside your region.")]
    elif not has_point and submission.address_string.strip():
        community = community_for_address(submission.address_string, within=partner.region)
        if community is None:
            errors["address_string"] = [
                _(
                    "Cannot tell the community from this address: give lat and long, "
                    "or address_id (the community's code)."
                )
            ]
    attributes = (
        attributes_read(code, submission.attributes) if "service_code" not in errors else None
    )
    if attributes is not None:
        errors.update(attributes.errors)
    if errors or attributes is None:
        raise ValidationFailed(fields=errors)
    lines = attributes.note_lines()
    description = "\n".join(part for part in (submission.description.strip(), *lines) if part)
    data = RequestInput(
        service=code,
        description=description,
        urgency=attributes.urgency or Urgency.NORMAL,
        community=community,
        address=submission.address_string,
        latitude=submission.lat,
        longitude=submission.long,
        window_start=attributes.window_start,
        window_end=attributes.window_end,
        contact_name=contact_name(submission.first_name, submission.last_name),
        contact_phone=submission.phone,
    )
    try:
        return request_create(actor=None, data=data, partner=partner)
    except ValidationFailed as error:
        raise ValidationFailed(error.message, fields=_errors_as_parameters(error.fields)) from error
