"""Periodic jobs of the incentives app (linli.core.tasks.PERIODIC_JOBS).

`budgets_close_due` closes every participatory budget vote whose `voting_until` has
passed; it looks at the data, not the clock, so a run after a gap catches up and a
second run finds nothing to close.
"""

from __future__ import annotations

from linli.core.tasks import task

from .budgets import budgets_close_due

BUDGETS_CLOSE_DUE = "incentives.budgets_close_due"


@task(BUDGETS_CLOSE_DUE)
def budgets_close_due_job() -> dict[str, int]:
    return budgets_close_due()
