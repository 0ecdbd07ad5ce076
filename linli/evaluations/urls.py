"""Pages of the evaluations app, one module per subject (linli/evaluations/views/)."""

from .views import ratings

app_name = "evaluations"

urlpatterns = [*ratings.urlpatterns]
