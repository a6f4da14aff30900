"""sealed notification targets: Apprise URLs encrypted at rest, masked labels beside them

Notification targets (Apprise URLs: webhook tokens, SMTP passwords) were stored in clear in
``saved_searches.notification_settings`` (``{"urls": [...], "digest": ...}``) and in every
``notifications.target``, so every backup held them. From here on:

- ``saved_searches.notification_settings`` is ``{"targets": [{"id", "label", "sealed"}], "digest"}``:
  ``sealed`` is a Fernet token (the key ring of ``MARKET_PULSE_SECRET_KEY``/``_FILE`` or
  ``$MARKET_PULSE_HOME/secret.key``), ``label`` the masked URL, ``id`` a random target id;
- ``notifications.target`` holds the same kind of token and the new ``target_label`` its label.

Target ids used to be a truncated SHA-256 of the URL (in dedupe keys and, hashed again, in the
idempotency keys); a reader of a dump who sees the label's user and host could test password
guesses against it offline. Existing rows get random ids instead: dedupe keys ending in the old
hash are rewritten, and their idempotency keys (``data.idempotency_key``, the ``ref:`` line) with
them. A message being sent while this runs may therefore reach a target that cannot deduplicate
twice; upgrade with the pipeline stopped.

Needs the key when there is anything to encrypt (the embedded setup creates one; otherwise the
error says how). The downgrade decrypts (the key is needed again) and writes the URLs in clear,
``${VAR}`` references expanded when the variable is set (kept as written otherwise: the old code
would send to them literally). Rewritten dedupe keys stay as they are: match rows, not keys,
decide what fires.

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-27 09:00:00+00:00
"""

import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FERNET_TOKEN = re.compile(r"^gAAAAA[A-Za-z0-9_\-]+=*$")
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _box(doing: str) -> Any:
    """The key ring, checked now; a one-line error (ValueError: a setting is missing) when there is none."""
    from infra.secrets import SecretBox, SecretKeyError

    box = SecretBox.from_env()
    try:
        box.check()
    except SecretKeyError as exc:
        raise ValueError(f"migration 0009 {doing} notification targets and needs the key: {exc}") from None
    return box


def _labeller() -> Any:
    from pipelines.alerts.targets import mask_url

    cache: dict[str, str] = {}

    def label(url: str) -> str:
        if url not in cache:
            cache[url] = mask_url(url)
        return cache[url]

    return label


def _legacy_id(url: str) -> str:
    return hashlib.sha256(url.strip().encode()).hexdigest()[:12]


def _ref(dedupe_key: str) -> str:
    return "mp-" + hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]


def upgrade() -> None:
    op.add_column('notifications', sa.Column('target_label', sa.Text(), server_default=sa.text("''"),
                                             nullable=False))
    bind = op.get_bind()
    searches = bind.execute(sa.text(
        "SELECT id, notification_settings FROM saved_searches WHERE notification_settings ? 'urls' "
        "ORDER BY id")).all()
    outbox = [row for row in bind.execute(sa.text(
        "SELECT id, saved_search_id, dedupe_key, target, data, body FROM notifications ORDER BY id")).all()
        if not FERNET_TOKEN.match(row.target)]
    if not searches and not outbox:
        return
    box, label = _box("encrypts"), _labeller()

    def seal(url: str) -> str:
        return str(box.encrypt(url.encode()).decode("ascii"))

    ids: dict[tuple[int | None, str], str] = {}
    for row in searches:
        settings = dict(row.notification_settings)
        targets = []
        for url in settings.get("urls") or []:
            target_id = ids.setdefault((row.id, _legacy_id(url)), secrets.token_hex(8))
            targets.append({"id": target_id, "label": label(url), "sealed": seal(url)})
        stored = {"targets": targets, "digest": bool(settings.get("digest", False))}
        bind.execute(sa.text("UPDATE saved_searches SET notification_settings = CAST(:s AS jsonb) WHERE id = :id"),
                     {"s": json.dumps(stored), "id": row.id})
    updates = []
    for row in outbox:
        old = _legacy_id(row.target)
        key, data, body = row.dedupe_key, dict(row.data or {}), row.body
        if key.endswith(f":{old}"):
            new_key = key[: -len(old)] + ids.setdefault((row.saved_search_id, old), secrets.token_hex(8))
            old_ref, new_ref = _ref(key), _ref(new_key)
            if data.get("idempotency_key") == old_ref:
                data["idempotency_key"] = new_ref
            key, body = new_key, body.replace(old_ref, new_ref)
        updates.append({"id": row.id, "target": seal(row.target), "label": label(row.target), "key": key,
                        "data": json.dumps(data, default=str), "body": body})
    if updates:
        bind.execute(sa.text(
            "UPDATE notifications SET target = :target, target_label = :label, dedupe_key = :key, "
            "data = CAST(:data AS jsonb), body = :body WHERE id = :id"), updates)


def downgrade() -> None:
    bind = op.get_bind()
    searches = bind.execute(sa.text(
        "SELECT id, notification_settings FROM saved_searches WHERE notification_settings ? 'targets' "
        "ORDER BY id")).all()
    outbox = [row for row in bind.execute(sa.text("SELECT id, target FROM notifications ORDER BY id")).all()
              if FERNET_TOKEN.match(row.target)]
    if searches or outbox:
        box = _box("(downgrade) decrypts")

        def open_(token: str) -> str:
            from infra.secrets import SecretKeyError
            from infra.settings import secret

            try:
                written = str(box.decrypt(token.encode("ascii")).decode())
            except SecretKeyError as exc:
                raise ValueError(f"downgrade of 0009 cannot decrypt a notification target: {exc}") from None
            return VARIABLE.sub(lambda m: secret(m.group(1)) or m.group(0), written)

        for row in searches:
            settings = dict(row.notification_settings)
            stored = {"urls": [open_(t["sealed"]) for t in settings.get("targets") or []],
                      "digest": bool(settings.get("digest", False))}
            bind.execute(sa.text(
                "UPDATE saved_searches SET notification_settings = CAST(:s AS jsonb) WHERE id = :id"),
                {"s": json.dumps(stored), "id": row.id})
        if outbox:
            bind.execute(sa.text("UPDATE notifications SET target = :target WHERE id = :id"),
                         [{"id": row.id, "target": open_(row.target)} for row in outbox])
    op.drop_column('notifications', 'target_label')
