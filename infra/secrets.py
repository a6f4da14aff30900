"""Encryption of secrets at rest (vendor session cookies, notification targets): Fernet keys.

`SecretBox` is a plain pydantic model (the CLI builds it with `SecretBox.from_env()`; the
pipeline's Dagster resource, ``pipelines.shared.resources.SecretBoxResource``, subclasses it and
is configured with `EnvVar("MARKET_PULSE_SECRET_KEY")`). The value is one urlsafe-base64 Fernet
key or several, comma-separated. The first key encrypts;
every key decrypts (`MultiFernet`), so rotating is: put a new key first, keep the old ones
after it, run `market-pulse sessions rotate-key` (re-encrypts every row with the first key),
then drop the old keys. Generate a key with `market-pulse sessions generate-key`.

Where the key comes from, first found wins: `MARKET_PULSE_SECRET_KEY`, the file named by
`MARKET_PULSE_SECRET_KEY_FILE` (Docker/Kubernetes secrets), or `$MARKET_PULSE_HOME/secret.key`.
The last is created (mode 0600) for the embedded laptop setup (`make run`, `db up`), so a
newcomer never has to make a key; with a configured database server nothing is created and a
secret cannot be stored until a key is given (:func:`ensure_home_key`). A box built without a
key (`SecretBox()`) looks the key up this way each time it is used, so the Dagster resource never
holds it in its configuration.

Keys and plaintexts never appear in messages: errors say which key *position* is malformed,
and `repr()` of the resource hides the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import BaseModel, ConfigDict, Field

SECRET_KEY_ENV = "MARKET_PULSE_SECRET_KEY"
SECRET_KEY_FILE_ENV = f"{SECRET_KEY_ENV}_FILE"
HOME_KEY_FILE = "secret.key"


class SecretKeyError(RuntimeError):
    """The key is missing or malformed, or a token cannot be decrypted with any configured key."""


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def home_key_file(env: Mapping[str, str] | None = None) -> Path:
    from infra.settings import home_dir

    return home_dir(env) / HOME_KEY_FILE


def secret_key_from_env(env: Mapping[str, str] | None = None) -> str | None:
    """The key ring: ``$MARKET_PULSE_SECRET_KEY``, the file of ``$MARKET_PULSE_SECRET_KEY_FILE``, or
    ``$MARKET_PULSE_HOME/secret.key`` when it exists; None when there is none."""
    from infra.settings import secret

    try:
        given = secret(SECRET_KEY_ENV, env)
    except ValueError as exc:
        raise SecretKeyError(str(exc)) from None
    if given:
        return given
    try:
        return home_key_file(env).read_text().strip() or None
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SecretKeyError(f"cannot read {home_key_file(env)}: {exc.strerror or exc}") from None


def write_key_file(path: Path) -> None:
    """A new key in a new file readable by this user only; an existing file is never replaced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(generate_key() + "\n")


def ensure_home_key(env: Mapping[str, str] | None = None) -> Path | None:
    """Create ``$MARKET_PULSE_HOME/secret.key`` unless a key is configured or the file exists; the
    path when one was created. For the embedded (laptop, demo) setup only: a configured server's
    processes may run with different homes, so there the key must be given explicitly."""
    if secret_key_from_env(env):
        return None
    path = home_key_file(env)
    try:
        write_key_file(path)
    except FileExistsError:
        return None
    return path


def _fernets(value: str | None) -> list[Fernet]:
    if not value or not value.strip():
        raise SecretKeyError(
            f"{SECRET_KEY_ENV} is not set (nor {SECRET_KEY_FILE_ENV}): it encrypts vendor sessions and "
            f"notification targets at rest. Create a key file with `market-pulse secrets generate-key --file "
            f"PATH` and set {SECRET_KEY_FILE_ENV}=PATH")
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
        """The box for the current environment: the key ring found as the module says."""
        return cls(secret_key=secret_key_from_env())

    def _key(self) -> str | None:
        if self.secret_key and self.secret_key.strip():
            return self.secret_key
        return secret_key_from_env()

    @property
    def configured(self) -> bool:
        try:
            return bool(self._key())
        except SecretKeyError:
            return False

    def _multi(self) -> MultiFernet:
        return MultiFernet(_fernets(self._key()))

    def check(self) -> int:
        """Validate the key(s) now; returns how many are configured."""
        return len(_fernets(self._key()))

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

    def keyed_id(self, value: bytes) -> str:
        """A stable id of a secret value that only holders of the current key can compute (an
        HMAC-SHA256 keyed with it): for dedupe keys of targets that have no stored random id. A
        plain hash would let a reader of the database test guesses of the secret offline."""
        _fernets(self._key())  # a readable message when the key is missing or malformed
        first = (self._key() or "").split(",")[0].strip()
        key = base64.urlsafe_b64decode(first.encode("ascii"))
        return hmac.new(key, b"market-pulse/target-id\0" + value, hashlib.sha256).hexdigest()[:16]

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt `token` with the first (current) key."""
        try:
            return self._multi().rotate(bytes(token))
        except InvalidToken:
            raise SecretKeyError(f"cannot decrypt with any key in {SECRET_KEY_ENV}") from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(secret_key={'<set>' if self.configured else None})"
