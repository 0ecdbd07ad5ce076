"""API of the evaluations app."""

from .views import urlpatterns

__all__ = ["urlpatterns"]
