"""Field encryption (AES-256-GCM) and keyed lookup hashes for personal data.

Both keys are derived from one master key (settings.FIELD_ENCRYPTION_KEY) with HKDF, so the
encryption key and the hashing key are independent. Ciphertexts carry a version prefix so keys
can be rotated later without guessing.
"""

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_PREFIX = "v1:"


def _derive(master: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master.encode())


@lru_cache(maxsize=4)
def _keys(master: str) -> tuple[AESGCM, bytes]:
    return AESGCM(_derive(master, b"linli field encryption")), _derive(master, b"linli lookup hash")


def _current() -> tuple[AESGCM, bytes]:
    return _keys(settings.FIELD_ENCRYPTION_KEY)


def encrypt(plaintext: str) -> str:
    aead, _ = _current()
    nonce = os.urandom(12)
    sealed = aead.encrypt(nonce, plaintext.encode("utf-8"), None)
    return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def decrypt(token: str) -> str:
    if not token.startswith(_PREFIX):
        raise ValueError("unknown ciphertext version")
    raw = base64.urlsafe_b64decode(token[len(_PREFIX) :])
    aead, _ = _current()
    return aead.decrypt(raw[:12], raw[12:], None).decode("utf-8")


def lookup_hash(value: str) -> str:
    """Keyed hash (HMAC-SHA256, hex) for exact lookups of an encrypted value."""
    _, key = _current()
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
