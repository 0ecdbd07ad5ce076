"""Two taps at once rate a request once, and the responder's mean counts every rating
(PostgreSQL: real row locks; threads with their own connections)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from linli.core.errors import LinliError
from linli.evaluations.models import Evaluation
from linli.evaluations.services import evaluation_submit

from .factories import delivered

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises every writer: there is no race to lose",
    ),
]


def _race(calls: list[Any]) -> list[Any]:
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = calls[index]()
        except LinliError as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_a_double_tap_rates_once(elder, worker, responder):
    done = delivered(elder, worker, responder)
    results = _race(
        [lambda: evaluation_submit(actor=elder.user, request=done, overall=5) for _ in range(4)]
    )
    assert sum(isinstance(r, Evaluation) for r in results) == 1
    assert all(isinstance(r, (Evaluation, LinliError)) for r in results)
    assert Evaluation.objects.filter(request=done).count() == 1


def test_concurrent_ratings_of_one_responder_all_count_in_its_mean(elder, worker, responder):
    requests = [delivered(elder, worker, responder) for _ in range(6)]
    scores = [5, 4, 3, 2, 1, 5]
    _race(
        [
            (lambda r=r, s=s: evaluation_submit(actor=elder.user, request=r, overall=s))
            for r, s in zip(requests, scores, strict=True)
        ]
    )
    responder.refresh_from_db()
    assert responder.rating == pytest.approx(sum(scores) / len(scores), abs=1e-3)
