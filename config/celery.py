"""The Celery application: workers run Linli's registered tasks, beat runs PERIODIC_JOBS.

    celery -A config worker --loglevel INFO
    celery -A config beat --loglevel INFO --schedule var/celerybeat-schedule

Used only when CELERY_BROKER_URL is set (production); the embedded default runs the
same tasks in-process (see linli/core/tasks.py).
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("linli")
# Every CELERY_* Django setting configures Celery (CELERY_BROKER_URL → broker_url).
app.config_from_object("django.conf:settings", namespace="CELERY")
# Task modules register themselves with @linli.core.tasks.task when imported.
app.autodiscover_tasks(related_name="tasks")
app.autodiscover_tasks(related_name="jobs")


def beat_schedule() -> dict[str, dict[str, Any]]:
    """Beat's schedule from the one table of periodic jobs.

    A run that waited in the queue longer than one interval expires: the next one does
    the same work (jobs look at the data), so a backlog after an outage is one run, not
    hundreds. Every run that does happen is recorded as a JobRun."""
    from linli.core.tasks import PERIODIC_JOBS

    return {
        job.name: {
            "task": job.name,
            "schedule": job.every.total_seconds(),
            "options": {"expires": job.every.total_seconds()},
        }
        for job in PERIODIC_JOBS
    }


app.conf.beat_schedule = beat_schedule()
