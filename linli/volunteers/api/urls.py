"""API of the volunteers app, one module per subject."""

from . import activities, honours, people, timebank

urlpatterns = [
    *people.urlpatterns,
    *activities.urlpatterns,
    *timebank.urlpatterns,
    *honours.urlpatterns,
]
