"""API of the evaluations app."""

from . import scores
from .views import urlpatterns as evaluation_urlpatterns

urlpatterns = [*evaluation_urlpatterns, *scores.urlpatterns]

__all__ = ["urlpatterns"]
