"""GeoReport v2's two formats: bare JSON arrays, and XML whose lists are named in the plural
with one singular element per item (<services><service>, <service_requests><request>,
<errors><error>, <attributes><attribute>, <values><value>). UTF-8 throughout."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from django.http import HttpResponse

JSON = "json"
XML = "xml"
FORMATS = (JSON, XML)
CONTENT_TYPES = {
    JSON: "application/json; charset=utf-8",
    XML: "text/xml; charset=utf-8",
}
# The element each item of a list is written as, by the list's own element.
ITEM_OF = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
}
# Characters XML 1.0 cannot carry at all; a description pasted from elsewhere may hold one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _element(tag: str, value: Any) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        for key, item in value.items():
            element.append(_element(key, item))
    elif isinstance(value, list):
        for item in value:
            element.append(_element(ITEM_OF.get(tag, "item"), item))
    else:
        element.text = _text(value)
    return element


def render_xml(root: str, data: Any) -> bytes:
    body = ET.tostring(_element(root, data), encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode("utf-8")


def render_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def open311_response(fmt: str, root: str, data: Any, *, status: int = 200) -> HttpResponse:
    """`data` as `fmt`; `root` names the XML root (JSON has none: a bare array or object)."""
    body = render_json(data) if fmt == JSON else render_xml(root, data)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])
