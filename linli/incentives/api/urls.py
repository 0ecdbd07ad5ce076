"""API of the incentives app, one module per subject."""

from . import budgets, funds

urlpatterns = [*budgets.urlpatterns, *funds.urlpatterns]
