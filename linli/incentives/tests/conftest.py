"""Fixtures of the participatory budget tests: a community, its worker, residents with
accounts, a neighbour from another community."""

from __future__ import annotations

import pytest

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.regions.models import Region
from linli.regions.tests.factories import region_chain
from linli.residents.services import ResidentInput, resident_register


def voter(community: Region, name: str = "李明") -> User:
    """A resident of `community` with an account; returns the account."""
    person = resident_register(actor=None, data=ResidentInput(name=name, community=community))
    person.user = UserFactory.create()
    person.save()
    return person.user


@pytest.fixture
def community(taxonomy):
    return region_chain("990102001001", lat=30.0, lon=120.0)


@pytest.fixture
def elsewhere(taxonomy):
    return region_chain("990102001002")


@pytest.fixture
def worker(community):
    user = UserFactory.create()
    RoleAssignmentFactory(user=user, role=Role.COMMUNITY_WORKER, region=community)
    return user


@pytest.fixture
def residents(community):
    return [voter(community, f"居民{i}") for i in range(3)]


@pytest.fixture
def outsider(elsewhere):
    return voter(elsewhere, "张三")
