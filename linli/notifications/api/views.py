"""The inbox over the API: the caller's own notifications, in the caller's language."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..choices import Kind
from ..models import Notification
from ..selectors import inbox_of, notification_view
from ..services import inbox_mark_all_read, notification_mark_read


@extend_schema_serializer(component_name="Notification")
class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Kind.choices)
    title = serializers.CharField(help_text="In the language the request asked for.")
    body = serializers.CharField()
    link = serializers.CharField(help_text="A page of this site, or empty.")
    request = serializers.CharField(allow_null=True, help_text="The request's public id.")
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        view = notification_view(instance) if isinstance(instance, Notification) else instance
        return super().to_representation(view)


class InboxApi(generics.GenericAPIView):
    """The caller's notifications, newest first; `unread=true` keeps the unread ones
    (the page's `count` is then the unread count)."""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()

    class InputSerializer(serializers.Serializer):
        unread = serializers.BooleanField(required=False, default=False)

    @extend_schema(parameters=[InputSerializer], responses=NotificationSerializer(many=True))
    def get(self, request: Request) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = inbox_of(request.user, unread_only=params.validated_data["unread"])
        page = self.paginate_queryset(rows) or []
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)


class NotificationReadApi(APIView):
    """Mark one of the caller's notifications read (someone else's is not found)."""

    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request: Request, notification_id: int) -> Response:
        notification = notification_mark_read(
            user=request.user,  # type: ignore[arg-type]
            notification_id=notification_id,
        )
        return Response(NotificationSerializer(notification).data)


class InboxReadAllApi(APIView):
    """Mark every unread notification of the caller read."""

    @extend_schema(
        request=None,
        responses=inline_serializer("InboxReadAllOutput", {"marked": serializers.IntegerField()}),
    )
    def post(self, request: Request) -> Response:
        return Response({"marked": inbox_mark_all_read(user=request.user)})  # type: ignore[arg-type]
