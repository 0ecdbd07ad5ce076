from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# Everything a page loads comes from this site: the system must work on a closed
# government network, and a strict policy also shuts out injected scripts.
DEFAULT_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'"
)


def content_security_policy() -> str:
    """The policy, letting map tiles in from the one tile server the deployment names."""
    policy = getattr(settings, "LINLI_CONTENT_SECURITY_POLICY", DEFAULT_POLICY)
    tiles = urlsplit(getattr(settings, "LINLI_MAP_TILE_URL", ""))
    if tiles.scheme and tiles.netloc:
        policy = policy.replace("img-src 'self'", f"img-src 'self' {tiles.scheme}://{tiles.netloc}")
    return policy


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.policy = content_security_policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


def allow_inline_styles(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The default policy, but with inline styles: for third-party pages that need them."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.headers["Content-Security-Policy"] = content_security_policy().replace(
            "style-src 'self'", "style-src 'self' 'unsafe-inline'"
        )
        return response

    return wrapped
