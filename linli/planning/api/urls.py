"""API of the planning app."""

from .views import urlpatterns

__all__ = ["urlpatterns"]
