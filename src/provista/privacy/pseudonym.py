"""Pseudonyms: HMAC-SHA256 with a secret key kept outside the warehouse (DOMAIN.md, Privacy).

The same value under the same key always gives the same pseudonym, so records link without the value
itself ever being stored; without the key the pseudonym cannot be reversed or recomputed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from provista.errors import ConfigError

KEY_BYTES = 32


def create_key(path: Path) -> bytes:
    """Write a new random key (hex) readable only by its owner; refuses to replace an existing one."""
    if path.exists():
        raise ConfigError(
            f"{path} already holds a key", hint="keep it: a new key would break every pseudonym"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex() + "\n")
    return key


def load_key(path: Path) -> bytes:
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        raise ConfigError(
            f"no pseudonymisation key at {path}",
            hint="create one with `provista keygen`, or set PROVISTA_PSEUDONYM_KEY_FILE",
        ) from None
    except ValueError:
        raise ConfigError(
            f"{path} does not hold a hex key", hint="restore the key file from its backup"
        ) from None
    if len(key) < 16:
        raise ConfigError(f"{path} holds a key of {len(key)} bytes; at least 16 are needed")
    return key


_BLOCK = 64  # SHA-256's block size, in bytes


def key_check(key: bytes) -> str:
    """A short check of the key (an HMAC of a constant): equal for the same key, revealing nothing of it.
    Kept in the warehouse, so that a later load with another key is refused instead of silently making
    pseudonyms and linkage tokens that match nothing already there."""
    return hmac.new(key, b"provista-key-check", hashlib.sha256).hexdigest()[:16]


class Pseudonymiser:
    """Keyed pseudonyms of identifiers, separated by purpose (a record number never equals an ID's)."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._keyed: dict[str, tuple[Any, Any]] = {}

    def _states(self, purpose: str) -> tuple[Any, Any]:
        """HMAC's inner hash (after the padded key and ``purpose``) and outer hash (after the padded key),
        as RFC 2104 builds them: copying two hashlib states per value is a third of ``hmac``'s time."""
        states = self._keyed.get(purpose)
        if states is None:
            key = self._key if len(self._key) <= _BLOCK else hashlib.sha256(self._key).digest()
            key = key.ljust(_BLOCK, b"\0")
            inner = hashlib.sha256(bytes(b ^ 0x36 for b in key) + f"{purpose}\x1f".encode())
            states = self._keyed[purpose] = (inner, hashlib.sha256(bytes(b ^ 0x5C for b in key)))
        return states

    def tokens(self, purpose: str, values: Iterable[str]) -> list[str]:
        """HMAC-SHA256 of ``purpose``, a separator and each value (hex, first 128 bits)."""
        inner, outer = self._states(purpose)
        inner_copy, outer_copy = inner.copy, outer.copy
        out = []
        for value in values:
            i = inner_copy()
            i.update(value.encode())
            o = outer_copy()
            o.update(i.digest())
            out.append(o.hexdigest()[:32])
        return out
