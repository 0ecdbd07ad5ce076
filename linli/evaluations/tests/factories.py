"""Requests brought to delivery through the requests app's services."""

from __future__ import annotations

from typing import Any

from linli.accounts.models import User
from linli.requests.choices import Action
from linli.requests.models import Responder, ServiceRequest
from linli.requests.services import (
    RequestInput,
    request_assign,
    request_create,
    request_transition,
)
from linli.residents.models import Resident


def delivered(
    person: Resident, worker: User, responder: Responder, **fields: Any
) -> ServiceRequest:
    """A meal request for `person`, assigned to `responder` and completed."""
    request = request_create(
        actor=worker,
        data=RequestInput(
            service=fields.pop("service", "elderly_meals"),
            person=person,
            community=person.community,
            address="幸福里3号",
            **fields,
        ),
    )
    request = request_assign(actor=worker, request=request, responder=responder)
    for action in (Action.ACCEPT, Action.START, Action.COMPLETE):
        request = request_transition(actor=responder.user, request=request, action=action)
    return request
