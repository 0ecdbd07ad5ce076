"""API of the incentives app, one module per subject."""

from . import budgets

urlpatterns = [*budgets.urlpatterns]
