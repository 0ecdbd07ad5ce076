"""The HSDS 3.0 read API at /hsds/: public, anonymous, read-only.

HSDS's own OpenAPI document (served at /hsds/openapi.json) is the reference for
these endpoints, so they are left out of Linli's OpenAPI schema. Query
parameters are HSDS's and combine as AND; a bad one is a 400 naming it.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from django.conf import settings
from django.db.models import Model
from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from linli.core.errors import NotFound

from . import serializers as hsds_json
from .selectors import (
    Listing,
    Shape,
    hsds_organization_get,
    hsds_organizations_list,
    hsds_page,
    hsds_service_at_location_get,
    hsds_service_at_locations_list,
    hsds_service_get,
    hsds_services_list,
    hsds_stream,
    hsds_taxonomies_list,
    hsds_taxonomy_get,
    hsds_taxonomy_term_get,
    hsds_taxonomy_terms_list,
)
from .spec import DEFAULT_PROFILE, HSDS_VERSION, openapi_document, schema_path

Json = dict[str, Any]

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 1000
# Far beyond any real page; keeps OFFSET within what every database accepts.
MAX_PAGE = 1_000_000
# Proximity is for "near here": a bound keeps the bounding box meaningful.
MAX_PROXIMITY_METRES = 100_000
# A '+' in a query string is a space unless encoded: "…T08:00:00 08:00" meant "+08:00".
UNENCODED_PLUS_OFFSET = re.compile(r" (\d{2}(?::?\d{2})?)$")
NDJSON = "application/x-ndjson"


class IgnoreFormatParameter(BaseContentNegotiation):
    """Always JSON: HSDS's `format` query parameter chooses json or ndjson, not a renderer."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: Any, format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


class HsdsApi(APIView):
    """Anonymous and stateless: no session, so no CSRF; only GET is routed."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    renderer_classes = (JSONRenderer,)
    content_negotiation_class = IgnoreFormatParameter
    http_method_names = ["get", "head", "options"]


def _query_params(serializer_class: type[serializers.Serializer], request: Request) -> Json:
    params = serializer_class(data=request.query_params)
    params.is_valid(raise_exception=True)
    return dict(params.validated_data)


def _id_of(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise serializers.ValidationError({"id": [_("Must be a valid UUID.")]}) from None


# --- query parameters -----------------------------------------------------------------------


class QueryDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str):
            value = UNENCODED_PLUS_OFFSET.sub(r"+\1", value.strip())
        return super().to_internal_value(value)


def _optional_id(**kwargs: Any) -> serializers.UUIDField:
    return serializers.UUIDField(required=False, allow_null=True, default=None, **kwargs)


def _flag() -> serializers.BooleanField:
    return serializers.BooleanField(required=False, default=False)


class ListParams(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    page = serializers.IntegerField(
        required=False, allow_null=True, default=1, min_value=1, max_value=MAX_PAGE
    )
    per_page = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=DEFAULT_PER_PAGE,
        min_value=1,
        max_value=MAX_PER_PAGE,
    )
    format = serializers.ChoiceField(choices=["json", "ndjson"], required=False, default="json")


class ServiceFilterParams(ListParams):
    taxonomy_term_id = _optional_id()
    taxonomy_id = _optional_id()
    organization_id = _optional_id()
    modified_after = QueryDateTimeField(required=False, allow_null=True, default=None)
    full = _flag()


# --- lists ----------------------------------------------------------------------------------


class HsdsListApi(HsdsApi):
    """A Page of HSDS objects, or with format=ndjson every matching object, one per line."""

    InputSerializer: ClassVar[type[serializers.Serializer]] = ListParams

    def listing(self, params: Json) -> Listing[Any]:
        raise NotImplementedError

    def to_json(self, params: Json) -> Callable[[Any], Json]:
        raise NotImplementedError

    def get(self, request: Request) -> HttpResponseBase:
        params = _query_params(self.InputSerializer, request)
        listing = self.listing(params)
        to_json = self.to_json(params)
        if params["format"] == "ndjson":
            return StreamingHttpResponse(_ndjson(listing, to_json), content_type=NDJSON)
        slice_ = hsds_page(listing, page=params["page"], per_page=params["per_page"])
        return Response(hsds_json.page(slice_, [to_json(item) for item in slice_.items]))


def _ndjson(listing: Listing[Any], to_json: Callable[[Any], Json]) -> Iterator[bytes]:
    for batch in hsds_stream(listing):
        yield "".join(
            json.dumps(to_json(item), ensure_ascii=False, separators=(",", ":")) + "\n"
            for item in batch
        ).encode()


@extend_schema(exclude=True)
class ServiceListApi(HsdsListApi):
    """GET /hsds/services: services, their organization and programme (or minimal, or full)."""

    class InputSerializer(ServiceFilterParams):
        minimal = _flag()

        def validate(self, attrs: Json) -> Json:
            if attrs["minimal"] and attrs["full"]:
                raise serializers.ValidationError(
                    {"minimal": [_("Ask for either minimal or full, not both.")]}
                )
            return attrs

    def listing(self, params: Json) -> Listing[Any]:
        shape: Shape = "minimal" if params["minimal"] else "full" if params["full"] else "list"
        return hsds_services_list(
            search=params["search"],
            taxonomy_term_id=params["taxonomy_term_id"],
            taxonomy_id=params["taxonomy_id"],
            organization_id=params["organization_id"],
            modified_after=params["modified_after"],
            shape=shape,
        )

    def to_json(self, params: Json) -> Callable[[Any], Json]:
        if params["minimal"]:
            return hsds_json.service_minimal
        return hsds_json.service_full if params["full"] else hsds_json.service


@extend_schema(exclude=True)
class OrganizationListApi(HsdsListApi):
    """GET /hsds/organizations: organizations (in full with full or full_service)."""

    class InputSerializer(ListParams):
        full = _flag()
        full_service = _flag()

    def listing(self, params: Json) -> Listing[Any]:
        return hsds_organizations_list(
            search=params["search"], full=params["full"], full_service=params["full_service"]
        )

    def to_json(self, params: Json) -> Callable[[Any], Json]:
        if params["full_service"]:
            return lambda record: hsds_json.organization_full(record, full_service=True)
        return hsds_json.organization_full if params["full"] else hsds_json.organization


@extend_schema(exclude=True)
class ServiceAtLocationListApi(HsdsListApi):
    """GET /hsds/service_at_locations: services at facilities, filterable by place."""

    class InputSerializer(ServiceFilterParams):
        postcode = serializers.CharField(
            required=False, allow_blank=True, max_length=20, default=""
        )
        proximity = serializers.FloatField(required=False, allow_null=True, default=None)

        def validate_postcode(self, value: str) -> str:
            return value.strip()

        def validate_proximity(self, value: float | None) -> float | None:
            if value is None:
                return None
            if not math.isfinite(value) or value <= 0:
                raise serializers.ValidationError(
                    _("Give a distance in metres: a number greater than 0.")
                )
            if value > MAX_PROXIMITY_METRES:
                raise serializers.ValidationError(
                    _("Give at most %(metres)s metres.") % {"metres": MAX_PROXIMITY_METRES}
                )
            return value

        def validate(self, attrs: Json) -> Json:
            if attrs["proximity"] is not None and not attrs["postcode"]:
                raise serializers.ValidationError(
                    {
                        "proximity": [
                            _("Give a postcode too: the distance is measured from its centre.")
                        ]
                    }
                )
            return attrs

    def listing(self, params: Json) -> Listing[Any]:
        return hsds_service_at_locations_list(
            search=params["search"],
            taxonomy_term_id=params["taxonomy_term_id"],
            taxonomy_id=params["taxonomy_id"],
            organization_id=params["organization_id"],
            modified_after=params["modified_after"],
            postcode=params["postcode"],
            proximity=params["proximity"],
            shape="full" if params["full"] else "list",
        )

    def to_json(self, params: Json) -> Callable[[Any], Json]:
        if params["full"]:
            return hsds_json.service_at_location_full
        return hsds_json.service_at_location


@extend_schema(exclude=True)
class TaxonomyListApi(HsdsListApi):
    """GET /hsds/taxonomies."""

    def listing(self, params: Json) -> Listing[Any]:
        return hsds_taxonomies_list(search=params["search"])

    def to_json(self, params: Json) -> Callable[[Any], Json]:
        return hsds_json.taxonomy


@extend_schema(exclude=True)
class TaxonomyTermListApi(HsdsListApi):
    """GET /hsds/taxonomy_terms: by taxonomy, by parent, or only the top terms."""

    class InputSerializer(ListParams):
        taxonomy_id = _optional_id()
        parent_id = _optional_id()
        top_only = _flag()

    def listing(self, params: Json) -> Listing[Any]:
        return hsds_taxonomy_terms_list(
            search=params["search"],
            taxonomy_id=params["taxonomy_id"],
            parent_id=params["parent_id"],
            top_only=params["top_only"],
        )

    def to_json(self, params: Json) -> Callable[[Any], Json]:
        return hsds_json.taxonomy_term


# --- single records -------------------------------------------------------------------------


class HsdsDetailApi(HsdsApi):
    """One HSDS object by its id: 400 for an id that is not a UUID, 404 for an unknown one."""

    InputSerializer: ClassVar[type[serializers.Serializer] | None] = None
    not_found: ClassVar[Any] = gettext_lazy("Nothing has this id.")

    def find(self, id: uuid.UUID, params: Json) -> Model | None:
        raise NotImplementedError

    def to_json(self, record: Any, params: Json) -> Json:
        raise NotImplementedError

    def get(self, request: Request, id: str) -> Response:
        key = _id_of(id)
        params = _query_params(self.InputSerializer, request) if self.InputSerializer else {}
        record = self.find(key, params)
        if record is None:
            raise NotFound(str(self.not_found))
        return Response(self.to_json(record, params))


@extend_schema(exclude=True)
class ServiceDetailApi(HsdsDetailApi):
    """GET /hsds/services/{id}: the service with everything about it."""

    not_found = gettext_lazy("No service has this id.")

    def find(self, id: uuid.UUID, params: Json) -> Model | None:
        return hsds_service_get(id=id)

    def to_json(self, record: Any, params: Json) -> Json:
        return hsds_json.service_full(record)


@extend_schema(exclude=True)
class OrganizationDetailApi(HsdsDetailApi):
    """GET /hsds/organizations/{id}: the organization, its services in full with full_service."""

    class InputSerializer(serializers.Serializer):
        full_service = _flag()

    not_found = gettext_lazy("No organization has this id.")

    def find(self, id: uuid.UUID, params: Json) -> Model | None:
        return hsds_organization_get(id=id, full_service=params["full_service"])

    def to_json(self, record: Any, params: Json) -> Json:
        return hsds_json.organization_full(record, full_service=params["full_service"])


@extend_schema(exclude=True)
class ServiceAtLocationDetailApi(HsdsDetailApi):
    """GET /hsds/service_at_locations/{id}: the row, its facility and its service in full."""

    not_found = gettext_lazy("No service at a facility has this id.")

    def find(self, id: uuid.UUID, params: Json) -> Model | None:
        return hsds_service_at_location_get(id=id)

    def to_json(self, record: Any, params: Json) -> Json:
        return hsds_json.service_at_location_full(record)


@extend_schema(exclude=True)
class TaxonomyDetailApi(HsdsDetailApi):
    """GET /hsds/taxonomies/{id}."""

    not_found = gettext_lazy("No taxonomy has this id.")

    def find(self, id: uuid.UUID, params: Json) -> Model | None:
        return hsds_taxonomy_get(id=id)

    def to_json(self, record: Any, params: Json) -> Json:
        return hsds_json.taxonomy(record)


@extend_schema(exclude=True)
class TaxonomyTermDetailApi(HsdsDetailApi):
    """GET /hsds/taxonomy_terms/{id}."""

    not_found = gettext_lazy("No taxonomy term has this id.")

    def find(self, id: uuid.UUID, params: Json) -> Model | None:
        return hsds_taxonomy_term_get(id=id)

    def to_json(self, record: Any, params: Json) -> Json:
        return hsds_json.taxonomy_term(record)


# --- about the API --------------------------------------------------------------------------


@extend_schema(exclude=True)
class RootApi(HsdsApi):
    """GET /hsds/: the HSDS version, profile and where the OpenAPI document is."""

    def get(self, request: Request) -> Response:
        return Response(
            {
                "version": HSDS_VERSION,
                "profile": getattr(settings, "LINLI_HSDS_PROFILE", DEFAULT_PROFILE),
                "openapi_url": request.build_absolute_uri(reverse("hsds:openapi")),
            }
        )


@extend_schema(exclude=True)
class OpenApiDocumentApi(HsdsApi):
    """GET /hsds/openapi.json: HSDS's OpenAPI document, pointing at this server."""

    def get(self, request: Request) -> Response:
        api_base = request.build_absolute_uri(reverse("hsds:root"))
        return Response(openapi_document(api_base=api_base, schema_base=api_base + "schema/"))


@extend_schema(exclude=True)
class SchemaFileApi(HsdsApi):
    """GET /hsds/schema/<name>: one of the HSDS schema files the OpenAPI document refers to."""

    def get(self, request: Request, name: str) -> HttpResponseBase:
        path = schema_path(name)
        if path is None:
            raise NotFound(_("There is no such schema file."))
        response = FileResponse(path.open("rb"), content_type="application/json")
        response["Cache-Control"] = "public, max-age=86400"
        return response
