"""Periodic jobs of the volunteers app (linli.core.tasks.PERIODIC_JOBS).

Each looks at the data, not the clock: `stars_propose` proposes every star level
crossed without a live award, `stars_award_due` awards every star whose notice has
ended with nothing open. A run after a gap catches up; a second run does nothing twice.
"""

from __future__ import annotations

from linli.core.tasks import task

from .honours import stars_award_due, stars_propose

STARS_PROPOSE = "volunteers.stars_propose"
STARS_AWARD_DUE = "volunteers.stars_award_due"


@task(STARS_PROPOSE)
def stars_propose_job() -> dict[str, int]:
    return stars_propose()


@task(STARS_AWARD_DUE)
def stars_award_due_job() -> dict[str, int]:
    return stars_award_due()
