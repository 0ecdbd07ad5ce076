"""GeoReport v2 in and out: form and query parameters read into typed values (with
errors keyed by parameter), and records laid out in the spec's field order.

Records are plain dicts and lists; `renderers` writes them as JSON or XML. A value
that is absent is None: `null` in JSON, an empty element in XML.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from linli.requests.choices import OPEN_STATES, Outcome, State
from linli.requests.models import Open311Partner, ServiceRequest

from .attributes import Attribute, service_attributes
from .dates import format_w3c_datetime, parse_w3c_datetime
from .selectors import DEFAULT_DAYS, MAX_REQUESTS, RequestQuery, ServiceEntry, is_own
from .services import Open311Submission

Record = dict[str, Any]

# Public ids look like R261130-7K3QX; anything far from that shape is refused, not searched.
REQUEST_ID = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,19}$")
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,100})\](\[\])?$")
STATUSES = ("open", "closed")
# Longest free texts a partner may send, beyond which it is a mistake, not a request.
MAX_NAME = 100
MAX_ADDRESS = 255


# --- services -------------------------------------------------------------------------


def service_record(entry: ServiceEntry) -> Record:
    term, group = entry.term, entry.group
    keywords = [term.code, term.name, term.name_en, group.name, group.name_en]
    return {
        "service_code": term.code,
        "service_name": term.display_name,
        "description": _("%(group)s: %(service)s")
        % {"group": group.display_name, "service": term.display_name},
        "metadata": bool(service_attributes(term.code)),
        "type": "realtime",
        "keywords": ", ".join(dict.fromkeys(k for k in keywords if k)),
        "group": group.display_name,
    }


def attribute_record(attribute: Attribute, order: int) -> Record:
    record: Record = {
        "variable": True,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": str(attribute.datatype_description) or None,
        "order": order,
        "description": str(attribute.description),
    }
    if attribute.values:
        record["values"] = [{"key": key, "name": str(name)} for key, name in attribute.values]
    return record


def service_definition(entry: ServiceEntry) -> Record:
    attributes = service_attributes(entry.term.code)
    return {
        "service_code": entry.term.code,
        "attributes": [
            attribute_record(attribute, order)
            for order, attribute in enumerate(attributes, start=1)
        ],
    }


# --- requests -------------------------------------------------------------------------


def _local(moment: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


def service_notice(request: ServiceRequest) -> str | None:
    if request.state not in OPEN_STATES or request.due_at is None:
        return None
    return _("Expected to be done by %(due)s.") % {"due": _local(request.due_at)}


def status_notes(request: ServiceRequest) -> str:
    """The state in words; never a person's reason text, which may name or describe people."""
    label = str(State(request.state).label)
    if request.state == State.CLOSED and request.outcome:
        return f"{label}: {Outcome(request.outcome).label}"
    return label


def agency_responsible(request: ServiceRequest) -> str:
    """The organization delivering, or the kind of person (never their name); before
    anyone is assigned, the community, whose workers dispatch it."""
    responder = request.responder
    if responder is not None and request.state in (*OPEN_STATES, State.COMPLETED):
        if responder.organization is not None:
            return responder.organization.name
        return str(responder.get_kind_display())
    return request.community.display_name


def public_address(request: ServiceRequest) -> str:
    """Community, street, county: most specific first, as the spec asks, and no closer."""
    community = request.community
    street = community.parent
    county = street.parent if street is not None else None
    return ", ".join(r.display_name for r in (community, street, county) if r is not None)


def request_record(request: ServiceRequest, *, partner: Open311Partner | None) -> Record:
    """One request as GeoReport shows it, with what `partner` may see (see selectors)."""
    own = is_own(request, partner)
    community = request.community
    lat, lon = community.lat, community.lon
    if own and request.latitude is not None and request.longitude is not None:
        lat, lon = request.latitude, request.longitude
    return {
        "service_request_id": request.public_id,
        "status": "open" if request.state in OPEN_STATES else "closed",
        "status_notes": status_notes(request),
        "service_name": request.service.display_name,
        "service_code": request.service.code,
        "description": (request.description or None) if own else None,
        "agency_responsible": agency_responsible(request),
        "service_notice": service_notice(request),
        "requested_datetime": format_w3c_datetime(request.created_at),
        "updated_datetime": format_w3c_datetime(request.updated_at),
        "expected_datetime": format_w3c_datetime(request.due_at),
        "address": (request.address or public_address(request)) if own else public_address(request),
        "address_id": community.code,
        "zipcode": None,
        "lat": lat,
        "long": lon,
        "media_url": None,
    }


def created_record(request: ServiceRequest) -> Record:
    """The answer to POST: the id itself (no token needed), the notice, no account."""
    return {
        "service_request_id": request.public_id,
        "service_notice": service_notice(request),
        "account_id": None,
    }


def token_record(request: ServiceRequest) -> Record:
    return {"service_request_id": request.public_id, "token": request.public_id}


def error_records(status: int, errors: Mapping[str, list[str]] | str) -> list[Record]:
    """The spec's error list: one {code, description} per reason, naming the parameter."""
    if isinstance(errors, str):
        return [{"code": status, "description": errors}]
    return [
        {"code": status, "description": f"{name}: {reason}"}
        for name, reasons in errors.items()
        for reason in reasons
    ]


# --- input ----------------------------------------------------------------------------


def read_request_id(value: str) -> str | None:
    """A request id in its stored form (upper case), or None when it cannot be one."""
    public_id = value.strip().upper()
    return public_id if REQUEST_ID.match(public_id) else None


def _text(form: QueryDict, name: str, limit: int, errors: dict[str, list[str]]) -> str:
    value = form.get(name, "").strip()
    if len(value) > limit:
        errors[name] = [_("At most %(limit)s characters.") % {"limit": limit}]
    return value


def _coordinate(form: QueryDict, name: str, errors: dict[str, list[str]]) -> float | None:
    raw = form.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        errors[name] = [_("Give a number in decimal degrees (WGS-84).")]
        return None
    return value


def read_submission(form: QueryDict) -> tuple[Open311Submission, dict[str, list[str]]]:
    """A POST requests.{format} form as typed values, and what was malformed in it."""
    errors: dict[str, list[str]] = {}
    lat, lon = _coordinate(form, "lat", errors), _coordinate(form, "long", errors)
    if (lat is None) != (lon is None) and not errors:
        missing = "long" if lon is None else "lat"
        errors[missing] = [_("Give both lat and long, or neither.")]
    attributes: dict[str, list[str]] = {}
    for key in form:
        match = _ATTRIBUTE.match(key)
        if match:
            attributes.setdefault(match.group(1), []).extend(form.getlist(key))
        elif key.startswith("attribute"):
            errors[key] = [_("Write attributes as attribute[CODE]=value.")]
    submission = Open311Submission(
        service_code=_text(form, "service_code", 100, errors),
        lat=lat,
        long=lon,
        address_string=_text(form, "address_string", MAX_ADDRESS, errors),
        address_id=_text(form, "address_id", 12, errors),
        description=_text(form, "description", 2000, errors),
        first_name=_text(form, "first_name", MAX_NAME, errors),
        last_name=_text(form, "last_name", MAX_NAME, errors),
        phone=_text(form, "phone", 20, errors),
        email=_text(form, "email", 254, errors),
        attributes=attributes,
    )
    return submission, errors


def _comma_list(query: QueryDict, name: str) -> list[str]:
    """Values given comma separated, repeated, or both."""
    return [
        part.strip() for value in query.getlist(name) for part in value.split(",") if part.strip()
    ]


def read_request_query(
    query: QueryDict, *, known_codes: set[str], now: dt.datetime
) -> tuple[RequestQuery, dict[str, list[str]]]:
    """GET requests' filters checked, with the spec's defaults: the last 90 days."""
    errors: dict[str, list[str]] = {}
    if "service_request_id" in query:
        ids = [value.upper() for value in _comma_list(query, "service_request_id")]
        bad = [value for value in ids if read_request_id(value) is None]
        if not ids or bad:
            errors["service_request_id"] = [
                _("Not a request id: %(ids)s.") % {"ids": ", ".join(bad) or '""'}
            ]
        elif len(ids) > MAX_REQUESTS:
            errors["service_request_id"] = [
                _("At most %(count)s ids at once.") % {"count": MAX_REQUESTS}
            ]
        return RequestQuery(ids=tuple(dict.fromkeys(ids))), errors
    codes = _comma_list(query, "service_code")
    unknown = [code for code in codes if code not in known_codes]
    if unknown:
        errors["service_code"] = [
            _("Unknown service code %(code)s.") % {"code": ", ".join(unknown)}
        ]
    statuses = [value.lower() for value in _comma_list(query, "status")]
    if any(value not in STATUSES for value in statuses):
        errors["status"] = [_("status is open or closed.")]
    moments: dict[str, dt.datetime | None] = {}
    for name in ("start_date", "end_date"):
        raw = query.get(name, "").strip()
        moments[name] = parse_w3c_datetime(raw) if raw else None
        if raw and moments[name] is None:
            errors[name] = [
                _("Give a W3C date and time with a time zone, e.g. %(example)s.")
                % {"example": "2026-11-30T08:00:00+08:00"}
            ]
    start, end = moments["start_date"], moments["end_date"]
    span = dt.timedelta(days=DEFAULT_DAYS)
    if start is None and end is None:
        end, start = now, now - span
    elif start is None and end is not None:
        start = end - span
    elif end is None and start is not None:
        end = start + span
    if (
        start is not None
        and end is not None
        and "start_date" not in errors
        and "end_date" not in errors
    ):
        if end < start:
            errors["end_date"] = [_("end_date comes after start_date.")]
        elif end - start > span:
            errors["end_date"] = [
                _("A query spans at most %(days)s days.") % {"days": DEFAULT_DAYS}
            ]
    return (
        RequestQuery(
            service_codes=tuple(codes),
            start=start,
            end=end,
            statuses=tuple(dict.fromkeys(statuses)),
        ),
        errors,
    )
