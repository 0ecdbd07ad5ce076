"""Pages of the volunteers app, one module per subject (linli/volunteers/views/)."""

from .views import activities, honours, people, timebank

app_name = "volunteers"

urlpatterns = [
    *people.urlpatterns,
    *activities.urlpatterns,
    *timebank.urlpatterns,
    *honours.urlpatterns,
]
