import pytest
from django.db.backends.sqlite3.base import DatabaseWrapper

from config.settings import base
from linli.cli import cli_language


def test_the_embedded_database_runs_in_wal_mode(tmp_path, monkeypatch, django_db_blocker):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'linli.sqlite3'}")
    config = base.database_from_env("sqlite:///unused.sqlite3")
    config.update({"TIME_ZONE": None, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False})
    config.setdefault("AUTOCOMMIT", True)
    connection = DatabaseWrapper(config)
    try:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("PRAGMA foreign_keys")
            assert cursor.fetchone()[0] == 1
    finally:
        connection.close()


def test_passwords_are_hashed_with_argon2_outside_tests():
    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@pytest.mark.parametrize(
    ("environment", "language"),
    [
        ({"LINLI_LANGUAGE": "en"}, "en"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh-hans"),
        ({"LANG": "C.UTF-8"}, "zh-hans"),
        ({"LINLI_LANGUAGE": "zh-hans", "LANG": "en_US.UTF-8"}, "zh-hans"),
        ({}, "zh-hans"),
    ],
)
def test_the_command_line_speaks_the_operators_language(monkeypatch, environment, language):
    for variable in ("LINLI_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    assert cli_language() == language
