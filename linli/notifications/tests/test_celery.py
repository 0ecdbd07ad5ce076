"""Tasks through a real Celery worker and a real Redis broker (production's path).

Redis must answer at 127.0.0.1:6379 (LINLI_TEST_REDIS_URL to change it). Without it the
test is skipped on a developer's machine and fails under CI (CI=true)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.db import OperationalError

from config.celery import app
from linli.accounts.tests.factories import UserFactory
from linli.core.models import JobRun
from linli.core.tasks import enqueue
from linli.notifications.choices import Kind
from linli.notifications.models import Delivery
from linli.notifications.services import notify

REDIS_URL = os.environ.get("LINLI_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def broker(settings) -> Iterator[str]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"Redis is needed at {REDIS_URL} under CI: {error}")
        pytest.skip(f"Redis is not answering at {REDIS_URL}")
    # A queue of this test's own: other test runs on the same Redis never take its tasks.
    queue = f"linli-test-{uuid.uuid4().hex[:8]}"
    settings.CELERY_BROKER_URL = REDIS_URL
    saved = {
        key: app.conf.get(key)
        for key in ("broker_url", "task_default_queue", "worker_hijack_root_logger")
    }
    app.conf.update(broker_url=REDIS_URL, task_default_queue=queue, worker_hijack_root_logger=False)
    try:
        yield queue
    finally:
        app.conf.update(saved)
        app.pool.force_close_all()
        redis.Redis.from_url(REDIS_URL).delete(queue)


def wait_for(check, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            found = check()
        except OperationalError:
            # The worker's thread is writing: the tests' in-memory SQLite says "table is
            # locked" at once instead of waiting. Look again in a moment.
            found = None
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError("the worker did not do it in time")


@pytest.mark.django_db(transaction=True)
def test_a_notification_is_delivered_by_a_celery_worker(broker, settings):
    settings.LINLI_NOTIFICATION_CHANNELS = ["console"]
    user = UserFactory.create(username="celery-user")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        notification = notify(user=user, kind=Kind.MESSAGE, title="Via Celery", body="Body")
        delivery = wait_for(lambda: Delivery.objects.filter(notification=notification).first())
        # A periodic job handed over by name runs there too, and records its run.
        enqueue("requests.escalate_overdue")
        run = wait_for(
            lambda: JobRun.objects.filter(
                name="requests.escalate_overdue", finished_at__isnull=False
            ).first()
        )
    assert (delivery.channel, delivery.status) == ("console", "sent")
    assert (run.runner, run.status, run.detail) == ("celery", "ok", "{'raised': 0}")
