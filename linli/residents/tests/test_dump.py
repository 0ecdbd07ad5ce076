"""A dump of the whole database, as an operator or a thief would take it, holds no
sensitive value in clear: the SQLite file's SQL dump, or pg_dump on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from django.db import connection

from linli.accounts.tests.factories import UserFactory
from linli.core.pii import identity_check_character
from linli.regions.tests.factories import region_chain
from linli.residents.services import (
    ResidentInput,
    consent_record,
    correction_ask,
    resident_register,
)

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER_17 = "99010219470302271"
NUMBER = NUMBER_17 + identity_check_character(NUMBER_17)
PHONE = "13987654321"
HEALTH = "阿尔茨海默病早期"
CORRECTION = "我的手机号应为13911112222"


def database_dump() -> str:
    """The whole database as SQL text, the way an operator backs it up."""
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump())
    settings = connection.settings_dict
    command = ["pg_dump", "--no-owner", "--dbname", settings["NAME"]]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings.get(key):
            command += [option, str(settings[key])]
    environment = {"PGPASSWORD": settings.get("PASSWORD") or ""}
    done = subprocess.run(  # noqa: S603 - fixed command, the test database's own settings
        command, capture_output=True, text=True, check=True, env=environment
    )
    return done.stdout


def test_a_database_dump_holds_no_sensitive_value_in_clear():
    community = region_chain("990102001001")
    resident = resident_register(
        actor=None,
        data=ResidentInput(
            name="王秀英",
            community=community,
            identity_number=NUMBER,
            phone=PHONE,
            disability_category="intellectual",
            disability_grade="3",
            difficulty="extreme_poverty",
            health_notes=HEALTH,
        ),
    )
    resident.user = UserFactory.create()
    resident.save()
    consent_record(actor=None, resident=resident, purpose="health", given_on=dt.date(2026, 1, 5))
    correction_ask(actor=resident.user, resident=resident, message=CORRECTION)

    dump = database_dump()

    assert "王秀英" in dump, "the dump should hold the register (names are not encrypted)"
    for secret in (NUMBER, NUMBER[6:14], PHONE, "13911112222", HEALTH, "intellectual"):
        assert secret not in dump
    assert "extreme_poverty" not in dump
