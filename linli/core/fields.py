"""Model fields that keep personal information encrypted at rest."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldError
from django.db import models

from .crypto import keyring


class EncryptedTextField(models.TextField):
    """Text stored as AES-GCM ciphertext, read back as text.

    It cannot be searched or sorted: the same value encrypts differently each
    time. Find records by an exact value through a blind index column instead
    (`linli.core.crypto.blind_index`). Only `isnull` is allowed as a lookup, so
    a filter that could never match fails loudly instead of returning nothing.
    """

    description = "Encrypted text"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    @property
    def context(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return keyring().decrypt(value, context=self.context)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return keyring().encrypt(str(value), context=self.context)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.context} is encrypted: look it up through its blind index, "
                f"not with __{lookup_name}"
            )
        return super().get_lookup(lookup_name)
