"""Model fields that keep personal data encrypted at rest."""

import json

from django.db import models

from linli.lib import crypto


class EncryptedTextField(models.TextField):
    """A text value stored as AES-GCM ciphertext; reads give back the plaintext.

    Not filterable by value: pair it with a keyed-hash column for exact lookups.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)


class EncryptedJSONField(models.TextField):
    """A JSON value (e.g. a list of care tags) stored encrypted."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return [] if value == "" else None
        return json.loads(crypto.decrypt(value))

    def to_python(self, value):
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def get_prep_value(self, value):
        if value is None:
            return None
        return crypto.encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True))

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj), ensure_ascii=False)
