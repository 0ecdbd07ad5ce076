"""What every API endpoint shares: pagination and one error format.

Every error body is `{"code": <stable code>, "detail": <message>, "fields": {...}}`
so that clients branch on `code` and show `detail` and `fields` to people.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ImportRejected, LinliError


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def _fields_of(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {
            key: [str(item) for item in (value if isinstance(value, list) else [value])]
            for key, value in detail.items()
        }
    return {}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, LinliError):
        body: dict[str, Any] = {"code": exc.code, "detail": exc.message, "fields": exc.fields}
        if isinstance(exc, ImportRejected):
            body["rows"] = [
                {"row": e.row, "field": e.field, "message": e.message} for e in exc.rows
            ]
        return Response(body, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        fields = _fields_of(exc.detail)
        if not fields:
            fields = {"non_field_errors": [str(item) for item in exc.detail]}
        response.data = {
            "code": "invalid",
            "detail": _("Some values are not valid."),
            "fields": fields,
        }
    else:
        codes = exc.get_codes()
        response.data = {
            "code": codes if isinstance(codes, str) else "error",
            "detail": str(exc.detail),
            "fields": {},
        }
    return response
