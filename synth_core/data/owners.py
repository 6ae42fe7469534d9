"""Who made which user dataset (uploads, drawings), so a person's own datasets survive a browser refresh
while other browsers still cannot see them.

A browser holds a random *owner token* (the UI keeps it in the page address, ``?owner=...``). This module
keeps, per token, the names of the datasets that token made in
``$SYNTHLAB_DATA_DIR/owners/<sha256(token)[:32]>.json``; the token itself is never written to disk. Anyone
holding the token (the same browser after a refresh, or a person the address was shared with) sees the
same datasets; without it a user dataset stays unlisted. The same file uploaded by two people is one
dataset on disk (``user_data`` hashes content) listed by both owners.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from pathlib import Path

from ..errors import ConfigError
from .base import is_user_dataset

_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_OWNED = 500  # names kept per owner (the oldest go first)


def owners_root() -> Path:
    """``$SYNTHLAB_DATA_DIR/owners``, else ``./data/owners``."""
    base = os.environ.get("SYNTHLAB_DATA_DIR")
    return (Path(base) if base else Path("data")).resolve() / "owners"


def new_token() -> str:
    """A fresh owner token (144 random bits, URL-safe)."""
    return secrets.token_urlsafe(18)


def valid_token(token: object) -> bool:
    return isinstance(token, str) and bool(_TOKEN_RE.match(token))


def _file(token: str) -> Path:
    if not valid_token(token):
        raise ConfigError("invalid owner token")
    return owners_root() / f"{hashlib.sha256(token.encode()).hexdigest()[:32]}.json"


def owned(token: str) -> list[str]:
    """Names of the user datasets ``token`` made, oldest first ([] for an unknown or invalid token)."""
    if not valid_token(token):
        return []
    try:
        names = json.loads(_file(token).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [n for n in names if isinstance(n, str) and is_user_dataset(n)] if isinstance(names, list) else []


def add(token: str, name: str) -> None:
    """Record that ``token`` made dataset ``name`` (written atomically; idempotent)."""
    if not is_user_dataset(name):
        raise ConfigError(f"{name!r} is not a user dataset")
    names = owned(token)
    if name in names:
        return
    names = (names + [name])[-MAX_OWNED:]
    path = _file(token)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp-{secrets.token_hex(4)}")
    tmp.write_text(json.dumps(names), encoding="utf-8")
    os.replace(tmp, path)
