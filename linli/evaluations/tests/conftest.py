"""Fixtures of the evaluations tests: a community and its worker, an elder with an account,
their proxy, a provider with staff, and a request delivered to the elder."""

from __future__ import annotations

import pytest
from django.utils import timezone

from linli.accounts.choices import Role
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.directory.tests.factories import OrganizationFactory
from linli.requests.choices import ResponderKind
from linli.requests.tests.conftest import community, elder, worker  # noqa: F401
from linli.requests.tests.factories import responder_create
from linli.residents.services import (
    ResidentInput,
    consent_record,
    relation_add,
    resident_register,
)

from .factories import delivered


@pytest.fixture
def proxy(elder, community):  # noqa: F811
    """The elder's daughter, their proxy with consent."""
    daughter = resident_register(
        actor=None, data=ResidentInput(name="王丽", community=community, address="幸福里5号")
    )
    daughter.user = UserFactory.create()
    daughter.save()
    consent = consent_record(
        actor=None, resident=elder, purpose="proxy", given_on=timezone.localdate()
    )
    relation_add(actor=None, resident=elder, person=daughter, kind="proxy", consent=consent)
    return daughter.user


@pytest.fixture
def provider(db):
    return OrganizationFactory.create(name="幸福家政")


@pytest.fixture
def staff(provider, community):  # noqa: F811
    user = UserFactory.create()
    RoleAssignmentFactory(user=user, role=Role.PROVIDER_STAFF, organization=provider)
    return user


@pytest.fixture
def responder(community, provider):  # noqa: F811
    return responder_create(
        community,
        "elderly_meals",
        name="幸福家政",
        kind=ResponderKind.ORGANIZATION,
        organization=provider,
    )


@pytest.fixture
def done(elder, worker, responder):  # noqa: F811
    return delivered(elder, worker, responder)
