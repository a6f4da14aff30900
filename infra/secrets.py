"""Encryption of secrets at rest (vendor session cookies): Fernet keys from the environment.

`SecretBox` is a plain pydantic model (the CLI builds it with `SecretBox.from_env()`; the
pipeline's Dagster resource, ``pipelines.shared.resources.SecretBoxResource``, subclasses it and
is configured with `EnvVar("MARKET_PULSE_SECRET_KEY")`). The value is one urlsafe-base64 Fernet
key or several, comma-separated. The first key encrypts;
every key decrypts (`MultiFernet`), so rotating is: put a new key first, keep the old ones
after it, run `market-pulse sessions rotate-key` (re-encrypts every row with the first key),
then drop the old keys. Generate a key with `market-pulse sessions generate-key`.

Keys and plaintexts never appear in messages: errors say which key *position* is malformed,
and `repr()` of the resource hides the key.
"""

from __future__ import annotations

import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import BaseModel, ConfigDict, Field

SECRET_KEY_ENV = "MARKET_PULSE_SECRET_KEY"


class SecretKeyError(RuntimeError):
    """The key is missing or malformed, or a token cannot be decrypted with any configured key."""


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def _fernets(value: str | None) -> list[Fernet]:
    if not value or not value.strip():
        raise SecretKeyError(
            f"{SECRET_KEY_ENV} is not set: it encrypts vendor sessions at rest. Generate one with "
            f"`market-pulse sessions generate-key` and export {SECRET_KEY_ENV}=<key>")
    keys = [part.strip() for part in value.split(",") if part.strip()]
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode("ascii")))
        except (ValueError, UnicodeEncodeError):
            raise SecretKeyError(
                f"{SECRET_KEY_ENV}: key #{position} of {len(keys)} is not a Fernet key "
                "(32 url-safe base64-encoded bytes; use `market-pulse sessions generate-key`)") from None
    return fernets


class SecretBox(BaseModel):
    """Encrypts and decrypts small secrets with the configured Fernet key(s)."""

    model_config = ConfigDict(extra="forbid")

    secret_key: str | None = Field(
        default=None,
        description=f"Fernet key(s), comma-separated, first = current; from ${SECRET_KEY_ENV}.",
        repr=False,
    )

    @classmethod
    def from_env(cls) -> SecretBox:
        """The box for the current environment (for the CLI; the Dagster resource uses EnvVar)."""
        return cls(secret_key=os.environ.get(SECRET_KEY_ENV) or None)

    @property
    def configured(self) -> bool:
        return bool(self.secret_key and self.secret_key.strip())

    def _multi(self) -> MultiFernet:
        return MultiFernet(_fernets(self.secret_key))

    def check(self) -> int:
        """Validate the key(s) now; returns how many are configured."""
        return len(_fernets(self.secret_key))

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._multi().encrypt(plaintext)

    def decrypt(self, token: bytes) -> bytes:
        try:
            return self._multi().decrypt(bytes(token))
        except InvalidToken:
            raise SecretKeyError(
                f"cannot decrypt with any key in {SECRET_KEY_ENV}: was it encrypted with a key that "
                "has since been removed? Add the old key after the new one, or import the session again"
            ) from None

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt `token` with the first (current) key."""
        try:
            return self._multi().rotate(bytes(token))
        except InvalidToken:
            raise SecretKeyError(f"cannot decrypt with any key in {SECRET_KEY_ENV}") from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(secret_key={'<set>' if self.configured else None})"
