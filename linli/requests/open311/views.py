"""Open311 GeoReport v2 at /open311/v2/: one class per resource, the format from the path.

Partner systems are not browsers: no session and no CSRF token; a partner is known
by its `api_key` alone (required to post, optional to read). Every refusal is the
spec's error list — 400 for bad input, 403 for a missing or wrong key, 404 for what
does not exist — in the format the path asked for (XML when it asked for none).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from linli.core.errors import LinliError
from linli.requests.models import Open311Partner

from . import serializers
from .renderers import JSON, XML, open311_response
from .selectors import (
    open311_partner_for_key,
    open311_request,
    open311_requests,
    open311_service,
    open311_services,
)
from .services import open311_request_create


class Open311Refusal(Exception):
    def __init__(self, status: int, errors: dict[str, list[str]] | str):
        self.status = status
        self.errors = errors
        super().__init__(str(errors))


def _bad_key() -> Open311Refusal:
    return Open311Refusal(403, _("api_key is missing or not valid."))


@method_decorator(csrf_exempt, name="dispatch")
class Open311View(View):
    http_method_names = ["get", "head", "options"]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.fmt = kwargs.pop("fmt", XML)
        try:
            return super().dispatch(request, *args, **kwargs)
        except Open311Refusal as refusal:
            return self.refuse(refusal.status, refusal.errors)
        except LinliError as error:
            return self.refuse(error.status, error.fields or error.message)
        except (BadRequest, SuspiciousOperation, MultiPartParserError):
            # A body too large, too many fields, a broken multipart form: still the spec's 400.
            return self.refuse(400, _("The request could not be read."))

    def refuse(self, status: int, errors: dict[str, list[str]] | str) -> HttpResponse:
        return open311_response(
            self.fmt, "errors", serializers.error_records(status, errors), status=status
        )

    def http_method_not_allowed(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        response = self.refuse(
            405, _("Method %(method)s is not allowed here.") % {"method": request.method}
        )
        response["Allow"] = ", ".join(m.upper() for m in self.http_method_names if hasattr(self, m))
        return response

    def partner(self, request: HttpRequest, *, required: bool) -> Open311Partner | None:
        """The partner whose api_key came with the request; a wrong key is never ignored."""
        key = (request.POST.get("api_key") or request.GET.get("api_key") or "").strip()
        if not key:
            if required:
                raise _bad_key()
            return None
        partner = open311_partner_for_key(key)
        if partner is None:
            raise _bad_key()
        return partner

    def answer(self, root: str, data: Any, *, status: int = 200) -> HttpResponse:
        return open311_response(self.fmt, root, data, status=status)


class ServiceListView(Open311View):
    """GET services.{format}: every service a partner may ask for."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.answer("services", [serializers.service_record(e) for e in open311_services()])


class ServiceDefinitionView(Open311View):
    """GET services/{service_code}.{format}: the service's attributes."""

    def get(self, request: HttpRequest, service_code: str) -> HttpResponse:
        entry = open311_service(service_code)
        if entry is None:
            raise Open311Refusal(404, _("Unknown service code %(code)s.") % {"code": service_code})
        return self.answer("service_definition", serializers.service_definition(entry))


class RequestListView(Open311View):
    """GET requests.{format}: requests by filter; POST requests.{format}: a new request."""

    http_method_names = ["get", "head", "post", "options"]

    def get(self, request: HttpRequest) -> HttpResponse:
        partner = self.partner(request, required=False)
        known = {entry.term.code for entry in open311_services()}
        query, errors = serializers.read_request_query(
            request.GET, known_codes=known, now=timezone.now()
        )
        if errors:
            raise Open311Refusal(400, errors)
        found = open311_requests(partner=partner, query=query)
        return self.answer(
            "service_requests",
            [serializers.request_record(r, partner=partner) for r in found],
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        partner = self.partner(request, required=True)
        assert partner is not None  # noqa: S101 - required=True raised otherwise
        submission, errors = serializers.read_submission(request.POST)
        if errors:
            raise Open311Refusal(400, errors)
        created = open311_request_create(partner=partner, submission=submission)
        return self.answer("service_requests", [serializers.created_record(created)])


def _checked_id(value: str, name: str) -> str:
    public_id = serializers.read_request_id(value)
    if public_id is None:
        raise Open311Refusal(400, {name: [_("Not a request id: %(ids)s.") % {"ids": value}]})
    return public_id


class RequestDetailView(Open311View):
    """GET requests/{service_request_id}.{format}: one request, as a one-item list."""

    def get(self, request: HttpRequest, service_request_id: str) -> HttpResponse:
        partner = self.partner(request, required=False)
        public_id = _checked_id(service_request_id, "service_request_id")
        found = open311_request(partner=partner, public_id=public_id)
        if found is None:
            raise Open311Refusal(404, _("No request %(id)s.") % {"id": public_id})
        return self.answer("service_requests", [serializers.request_record(found, partner=partner)])


class TokenView(Open311View):
    """GET tokens/{token}.{format}. Linli answers a POST with the request's id at once, so
    a request's token is its id: this resolves any id to itself, for clients that always
    ask."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        partner = self.partner(request, required=False)
        public_id = _checked_id(token, "token")
        found = open311_request(partner=partner, public_id=public_id)
        if found is None:
            raise Open311Refusal(404, _("No request for token %(token)s.") % {"token": public_id})
        return self.answer("service_requests", [serializers.token_record(found)])


class UnknownResourceView(Open311View):
    """Anything else under /open311/v2/: the spec's 404, not an HTML page."""

    http_method_names = ["get", "head", "post", "put", "patch", "delete", "options"]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.fmt = JSON if kwargs.get("rest", "").endswith(".json") else XML
        return self.refuse(
            404,
            _("No such resource: use services, requests or tokens, ending in .json or .xml."),
        )
