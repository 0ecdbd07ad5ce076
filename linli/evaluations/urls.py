"""Pages of the evaluations app, one module per subject (linli/evaluations/views/)."""

from .views import facilities, moderation, ratings, scores

app_name = "evaluations"

urlpatterns = [
    *ratings.urlpatterns,
    *facilities.urlpatterns,
    *moderation.urlpatterns,
    *scores.urlpatterns,
]
