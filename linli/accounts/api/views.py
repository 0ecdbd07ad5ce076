from __future__ import annotations

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from knox.models import AuthToken
from knox.views import LogoutView
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from linli.core.errors import LinliError


class InvalidCredentials(LinliError):
    code = "invalid_credentials"
    status = 400


class TokenLoginApi(APIView):
    """Exchange a username and password for an expiring token.

    Clients then send `Authorization: Token <token>`. The same answer is given
    for an unknown user, a wrong password and a deactivated account.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=256, trim_whitespace=False)

    @extend_schema(
        request=InputSerializer,
        responses=inline_serializer(
            "TokenLoginOutput",
            {"token": serializers.CharField(), "expiry": serializers.DateTimeField()},
        ),
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None:
            raise InvalidCredentials(_("The username or password is not correct."))
        instance, token = AuthToken.objects.create(user)
        return Response({"token": token, "expiry": instance.expiry})


@extend_schema_view(post=extend_schema(request=None, responses={204: None}))
class TokenLogoutApi(LogoutView):
    """Revoke the token this request was made with."""
