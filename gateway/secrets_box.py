"""Encryption at rest for AppSecrets (Fernet, key derived from FACEGATE_ENCRYPTION_KEY)."""
from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(key_material: str) -> Fernet:
    digest = hashlib.sha256(("facegate-appsecret:" + key_material).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plain: str) -> str:
    return _fernet(settings.FACEGATE_ENCRYPTION_KEY).encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet(settings.FACEGATE_ENCRYPTION_KEY).decrypt(token.encode()).decode()
