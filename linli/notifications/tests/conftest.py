"""A community with its worker, its street's official, an elder with an account, and a
tiny HTTP gateway that records what the SMS and WeChat channels post to it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from linli.accounts.choices import Role
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.core.pii import identity_check_character
from linli.regions.models import Region
from linli.regions.tests.factories import region_chain
from linli.requests.services import RequestInput, request_create
from linli.residents.services import ResidentInput, resident_register

COMMUNITY = "990102001001"
STREET = "990102001000"


@pytest.fixture
def community(taxonomy):
    return region_chain(COMMUNITY, lat=30.0, lon=120.0, name="幸福社区", name_en="Xingfu")


@pytest.fixture
def worker(community):
    user = UserFactory.create(username="worker")
    RoleAssignmentFactory(user=user, role=Role.COMMUNITY_WORKER, region=community)
    return user


@pytest.fixture
def official(community):
    user = UserFactory.create(username="official")
    RoleAssignmentFactory(
        user=user, role=Role.STREET_OFFICIAL, region=Region.objects.get(code=STREET)
    )
    return user


@pytest.fixture
def elder(community):
    first17 = "990102" + "19410101" + "124"
    person = resident_register(
        actor=None,
        data=ResidentInput(
            name="王秀英",
            community=community,
            identity_number=first17 + identity_check_character(first17),
            address="幸福里3号",
            living_alone=True,
        ),
    )
    person.user = UserFactory.create(username="elder")
    person.save()
    return person


def ask(person: Any, actor: Any = None, **fields: Any) -> Any:
    return request_create(
        actor=actor or person.user,
        data=RequestInput(service=fields.pop("service", "elderly_meals"), person=person, **fields),
    )


@dataclass
class Gateway:
    """An HTTP server on 127.0.0.1 that answers every POST with `status` and `answer`."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    status: int = 200
    answer: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    state: dict[str, Gateway] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            gate = state["gateway"]
            length = int(self.headers.get("Content-Length", 0))
            gate.received.append(json.loads(self.rfile.read(length)))
            gate.headers.append(dict(self.headers))
            body = json.dumps(gate.answer).encode()
            self.send_response(gate.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["gateway"] = Gateway(url=f"http://127.0.0.1:{server.server_address[1]}/send")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["gateway"]
    finally:
        server.shutdown()
        server.server_close()
