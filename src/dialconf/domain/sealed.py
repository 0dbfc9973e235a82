"""Secrets dialconf must send somewhere else (a CalDAV password), sealed with the installation's secret key.

A database copy alone must not reveal them: the stored text is a Fernet token (AES with an HMAC)
under a key derived from the secret key, which lives outside the database (DIALCONF_SECRET_KEY or
the key file). Each use has its own purpose string, so a token sealed for one use opens for no other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.fernet import Fernet


class SealBroken(ValueError):
    """The token was not sealed with this key for this purpose (the secret key changed, or it was altered)."""


def _fernet(key: bytes, purpose: str) -> Fernet:
    from cryptography.fernet import Fernet

    derived = hmac.new(key, f"dialconf sealed secret: {purpose}".encode(), hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(key: bytes, purpose: str, secret: str) -> str:
    """`secret` encrypted and authenticated under `key` for `purpose`, as ASCII text."""
    token = _fernet(key, purpose).encrypt(secret.encode("utf-8"))
    return token.decode("ascii")


def unseal(key: bytes, purpose: str, token: str) -> str:
    """The secret sealed in `token`, or raise SealBroken."""
    from cryptography.fernet import InvalidToken

    try:
        secret = _fernet(key, purpose).decrypt(token.encode("ascii"))
    except (InvalidToken, ValueError):
        raise SealBroken("the sealed secret cannot be opened with this installation's secret key") from None
    return secret.decode("utf-8")
