"""API of the planning app."""

from .views import urlpatterns

__all__ = ["urlpatterns"]

from .sites import urlpatterns as _sites

urlpatterns = [*urlpatterns, *_sites]

from .access import urlpatterns as _access  # noqa: E402  (accessibility runs)

urlpatterns = [*urlpatterns, *_access]
