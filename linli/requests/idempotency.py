"""Idempotent creation: a client's retry with the same `Idempotency-Key` never makes a
second request.

The key row is inserted first, inside the same transaction as the request it will
point to, so the database's unique constraint on (user, key) decides between
concurrent retries:

- PostgreSQL: the second insert of the same key waits on the first transaction's
  uncommitted index entry; when the first commits, it fails with an IntegrityError,
  and the loser reads the winner's committed row (read committed: a new statement
  sees the new row) and answers with the winner's request. If the first rolls back,
  the second simply goes ahead and creates the request itself.
- SQLite: transactions begin IMMEDIATE (see settings), so writers queue for the one
  write lock; the second retry starts after the first committed, finds the row on its
  first read and never reaches the insert.

Only successful creations are remembered: a refused body (a 400) rolls the key row
back with everything else, so the client may correct the body and retry with the key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import LinliError, ValidationFailed

from .models import IdempotencyKey, ServiceRequest

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(LinliError):
    """The key was already used with another body: a client bug, never a retry."""

    code = "idempotency_key_reused"
    status = 422
    default_message = _(
        "This Idempotency-Key was already used with a different request body. "
        "Use a new key for a new request."
    )


@dataclass(frozen=True)
class Created:
    request: ServiceRequest
    replayed: bool


def canonical(data: Any) -> Any:
    """Plain JSON values: a form's QueryDict as lists, everything else as parsed."""
    if isinstance(data, QueryDict):
        return {key: data.getlist(key) for key in sorted(data)}
    if isinstance(data, Mapping):
        return {str(key): canonical(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [canonical(value) for value in data]
    return data


def body_hash(data: Any) -> str:
    """SHA-256 of the body as canonical JSON: key order and spacing do not matter."""
    text = json.dumps(
        canonical(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(
            fields={
                HEADER: [
                    str(
                        _("An Idempotency-Key is 1 to %(max)s printable characters.")
                        % {"max": MAX_KEY_LENGTH}
                    )
                ]
            }
        )
    return key


def _replay(row: IdempotencyKey, digest: str) -> Created:
    if row.body_hash != digest:
        raise IdempotencyKeyReused()
    if row.request is None:  # never committed so: the row and its request go together
        raise LinliError()
    return Created(row.request, replayed=True)


def _existing(user: User, key: str) -> IdempotencyKey | None:
    return IdempotencyKey.objects.select_related("request").filter(user=user, key=key).first()


def request_create_once(
    *, actor: User, key: str, digest: str, create: Callable[[], ServiceRequest]
) -> Created:
    """Run `create` once per (actor, key): a retry gets the first request back, a key
    reused with another body is refused (422), concurrent retries make one request."""
    key = check_key(key)
    with transaction.atomic():
        row = _existing(actor, key)
        if row is not None:
            return _replay(row, digest)
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(user=actor, key=key, body_hash=digest)
        except IntegrityError:
            # A concurrent retry inserted the key first and has committed by now (the
            # insert waited for it): answer with its request.
            row = _existing(actor, key)
            if row is None:  # pragma: no cover - the winner's row was deleted meanwhile
                raise
            return _replay(row, digest)
        request = create()
        row.request = request
        row.save(update_fields=["request"])
        return Created(request, replayed=False)
