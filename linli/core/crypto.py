"""Field encryption at rest (AES-GCM) and keyed blind indexes (HMAC-SHA256).

Personal information that PIPL calls sensitive is stored encrypted. Keys come
from the environment: `LINLI_FIELD_KEYS` is a comma-separated list of
`id:key` (key = 32 random bytes, URL-safe base64); the first encrypts, every
one decrypts, so a key can be rotated (`linli keys rotate`) without downtime.
`LINLI_BLIND_INDEX_KEY` keys the HMAC that lets Linli find a record by an exact
value (an identity number, a phone) without storing the value in clear.

A stored value reads `v1.<key id>.<base64(nonce ‖ ciphertext ‖ tag)>`. The
field's own name is bound in as associated data, so a value copied from one
column to another no longer decrypts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

VERSION = "v1"
NONCE_BYTES = 12
KEY_BYTES = 32


class DecryptionError(Exception):
    """A stored value that no configured key opens (wrong key, or tampered with)."""


def new_key() -> str:
    """A fresh key, as the environment holds it."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def _decode_key(text: str, name: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}: not URL-safe base64") from error
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(f"{name}: a key is {KEY_BYTES} bytes, this one {len(key)}")
    return key


@dataclass(frozen=True)
class Keyring:
    current: str
    keys: dict[str, bytes]
    blind_key: bytes

    @classmethod
    def from_settings(cls) -> Keyring:
        entries = [e for e in getattr(settings, "LINLI_FIELD_KEYS", []) if e.strip()]
        if not entries:
            raise ImproperlyConfigured("LINLI_FIELD_KEYS is not set: personal data can't be kept")
        keys: dict[str, bytes] = {}
        for entry in entries:
            key_id, _sep, text = entry.strip().partition(":")
            if not key_id or not text or "." in key_id:
                raise ImproperlyConfigured("LINLI_FIELD_KEYS entries read id:key")
            keys[key_id] = _decode_key(text, f"LINLI_FIELD_KEYS[{key_id}]")
        blind = getattr(settings, "LINLI_BLIND_INDEX_KEY", "")
        if not blind:
            raise ImproperlyConfigured("LINLI_BLIND_INDEX_KEY is not set")
        first = entries[0].strip().partition(":")[0]
        return cls(current=first, keys=keys, blind_key=_decode_key(blind, "LINLI_BLIND_INDEX_KEY"))

    def encrypt(self, plaintext: str, *, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current]).encrypt(
            nonce, plaintext.encode(), context.encode()
        )
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{VERSION}.{self.current}.{body}"

    def decrypt(self, token: str, *, context: str) -> str:
        version, key_id, body = _split(token)
        if version != VERSION or key_id not in self.keys:
            raise DecryptionError(f"no key {key_id!r} for a {version} value")
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        try:
            plain = AESGCM(self.keys[key_id]).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()
            )
        except InvalidTag as error:
            raise DecryptionError("the value does not open with its key") from error
        return plain.decode()

    def blind_index(self, value: str, *, purpose: str) -> str:
        """The same value gives the same index; nobody without the key can compute it."""
        normal = unicodedata.normalize("NFKC", value).strip().upper()
        message = f"{purpose}\x00{normal}".encode()
        return hmac.new(self.blind_key, message, hashlib.sha256).hexdigest()


def _split(token: str) -> tuple[str, str, str]:
    parts = token.split(".", 2)
    if len(parts) != 3:
        raise DecryptionError("not an encrypted value")
    return parts[0], parts[1], parts[2]


def key_id_of(token: str) -> str:
    """Which key sealed a stored value (for rotation)."""
    return _split(token)[1]


@lru_cache(maxsize=1)
def keyring() -> Keyring:
    return Keyring.from_settings()


@receiver(setting_changed)
def _forget_keys(*, setting: str, **_kwargs: object) -> None:
    if setting in {"LINLI_FIELD_KEYS", "LINLI_BLIND_INDEX_KEY"}:
        keyring.cache_clear()


def blind_index(value: str, *, purpose: str) -> str:
    return keyring().blind_index(value, purpose=purpose)


def local_keys(path: Path) -> tuple[list[str], str]:
    """The embedded default's keys, made on first use and kept beside its database.

    A single-machine install has no secret store; the key file lives under var/
    with owner-only permissions and must be backed up apart from the database.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(f"LINLI_FIELD_KEYS=k1:{new_key()}\nLINLI_BLIND_INDEX_KEY={new_key()}\n")
    values = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return values["LINLI_FIELD_KEYS"].split(","), values["LINLI_BLIND_INDEX_KEY"]
