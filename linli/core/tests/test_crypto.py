"""Personal data at rest: AES-GCM fields, blind indexes, key rotation."""

import pytest
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import connection, models
from django.test.utils import isolate_apps

from linli.core.crypto import DecryptionError, blind_index, key_id_of, keyring, new_key
from linli.core.fields import EncryptedTextField
from linli.core.services import reencrypt

SECRET = "440308199001011234"


def test_a_value_round_trips_and_is_not_in_clear():
    token = keyring().encrypt(SECRET, context="residents.resident.identity_number")
    assert SECRET not in token
    assert token.startswith("v1.t2.")
    assert keyring().decrypt(token, context="residents.resident.identity_number") == SECRET


def test_the_same_value_encrypts_differently_each_time():
    first = keyring().encrypt(SECRET, context="x")
    assert first != keyring().encrypt(SECRET, context="x")


def test_a_value_moved_to_another_column_does_not_open():
    token = keyring().encrypt(SECRET, context="residents.resident.identity_number")
    with pytest.raises(DecryptionError):
        keyring().decrypt(token, context="residents.resident.phone")


def test_a_tampered_value_does_not_open():
    token = keyring().encrypt(SECRET, context="x")
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(DecryptionError):
        keyring().decrypt(tampered, context="x")


def test_old_keys_still_open_and_unknown_keys_say_so(settings):
    old = keyring().encrypt(SECRET, context="x")
    settings.LINLI_FIELD_KEYS = [f"t3:{new_key()}", *settings.LINLI_FIELD_KEYS]
    assert keyring().decrypt(old, context="x") == SECRET
    assert key_id_of(keyring().encrypt(SECRET, context="x")) == "t3"
    settings.LINLI_FIELD_KEYS = [f"t9:{new_key()}"]
    with pytest.raises(DecryptionError, match="no key 't2'"):
        keyring().decrypt(old, context="x")


def test_blind_indexes_are_stable_keyed_and_per_purpose(settings):
    first = blind_index(" 11010519491231002x", purpose="identity_number")
    assert first == blind_index("11010519491231002X", purpose="identity_number")
    assert first != blind_index("11010519491231002X", purpose="phone")
    settings.LINLI_BLIND_INDEX_KEY = new_key()
    assert first != blind_index("11010519491231002X", purpose="identity_number")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LINLI_FIELD_KEYS", []),
        ("LINLI_FIELD_KEYS", ["k1:tooshort"]),
        ("LINLI_BLIND_INDEX_KEY", ""),
    ],
)
def test_missing_or_bad_keys_stop_with_a_clear_message(settings, name, value):
    setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured):
        keyring()


@pytest.fixture
def secret_model(transactional_db):
    """A model with an encrypted field, its table made for this test only."""
    with isolate_apps("linli.core"):

        class Secret(models.Model):
            note = EncryptedTextField()

            class Meta:
                app_label = "core"

            def __str__(self) -> str:
                return "secret"

        with connection.schema_editor() as editor:
            editor.create_model(Secret)
        yield Secret
        with connection.schema_editor() as editor:
            editor.delete_model(Secret)


def stored(model) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT note FROM {model._meta.db_table} ORDER BY id")  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def test_the_database_holds_no_value_in_clear(secret_model):
    secret_model.objects.create(note=SECRET)
    assert secret_model.objects.get().note == SECRET
    assert SECRET not in stored(secret_model)[0]


def test_encrypted_fields_refuse_lookups_that_could_never_match(secret_model):
    with pytest.raises(FieldError, match="blind index"):
        secret_model.objects.filter(note=SECRET).exists()
    assert secret_model.objects.filter(note__isnull=False).count() == 0


def test_rotation_reseals_every_value_with_the_current_key(secret_model, settings):
    secret_model.objects.bulk_create([secret_model(note=f"{SECRET}-{n}") for n in range(3)])
    assert {key_id_of(v) for v in stored(secret_model)} == {"t2"}
    settings.LINLI_FIELD_KEYS = [f"t3:{new_key()}", *settings.LINLI_FIELD_KEYS]
    assert reencrypt(model=secret_model, fields=["note"]) == 3
    assert {key_id_of(v) for v in stored(secret_model)} == {"t3"}
    settings.LINLI_FIELD_KEYS = settings.LINLI_FIELD_KEYS[:1]
    assert sorted(s.note for s in secret_model.objects.all()) == [f"{SECRET}-{n}" for n in range(3)]
