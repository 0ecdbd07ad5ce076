"""Fixtures of the requests tests: a community, its worker, an older resident to serve."""

from __future__ import annotations

import pytest

from linli.accounts.choices import Role
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.core.pii import identity_check_character
from linli.regions.tests.factories import region_chain
from linli.residents.services import ResidentInput, resident_register


def identity(born: str, serial: str = "124") -> str:
    first17 = "990102" + born + serial
    return first17 + identity_check_character(first17)


@pytest.fixture
def community(taxonomy):
    return region_chain("990102001001", lat=30.0, lon=120.0)


@pytest.fixture
def worker(community):
    user = UserFactory.create()
    RoleAssignmentFactory(user=user, role=Role.COMMUNITY_WORKER, region=community)
    return user


@pytest.fixture
def elder(community):
    """An 85-year-old living alone with a grade-2 disability, with an account."""
    person = resident_register(
        actor=None,
        data=ResidentInput(
            name="王秀英",
            community=community,
            identity_number=identity("19410101"),
            address="幸福里3号",
            living_alone=True,
            disability_category="physical",
            disability_grade="2",
        ),
    )
    person.user = UserFactory.create()
    person.save()
    return person
