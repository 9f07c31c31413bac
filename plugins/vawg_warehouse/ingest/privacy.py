"""Pseudonymisation at the edge: person identifiers become keyed HMACs before anything is stored.

The key never lives in the repository. In order of precedence it comes from:
1. ``VAWG_PSEUDONYM_KEY`` in the environment (an Airflow deployment sets it from a secrets backend,
   or passes the password of the Airflow connection ``vawg_pseudonym_key``: see orchestration.py);
2. for the local demo only, ``$VAWG_HOME/secrets/pseudonym.key``, created on first use by
   ``demo_key()`` with owner-only permissions.
The same key must be used for every load, or the same person gets two pseudonyms: losing it breaks
linkage across time (which is also how the warehouse can be made to forget: rotate the key).
"""

from __future__ import annotations

import binascii
import contextlib
import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import cast

from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.private_files import write_private

KEY_ENV = "VAWG_PSEUDONYM_KEY"
KEY_FILE_ENV = "VAWG_PSEUDONYM_KEY_FILE"  # or the key in a file (compose secrets)
MIN_KEY_BYTES = 32
# Stored instead of a pseudonym for an identifier with a character outside its contract's
# alphabet (contracts.DEFAULT_ID_ALPHABET): not the value, not a hash. Its row is set aside by
# the rule validate/contract_rules.py adds (a pseudonym is hex: it never starts with "!").
OUTSIDE_ALPHABET = "!outside-alphabet"


class PseudonymKeyError(RuntimeError):
    """No usable key: refuse to load rather than store identifiers in clear."""


def _key_file(settings: Settings) -> Path:
    return settings.secrets_dir / "pseudonym.key"


def demo_key(settings: Settings | None = None) -> str:
    """Create (once) and return the local demo key. Never used when VAWG_PSEUDONYM_KEY is set."""
    settings = settings or get_settings()
    path = _key_file(settings)
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another process made it first: use that
            write_private(path, secrets.token_hex(MIN_KEY_BYTES), replace=False)
    return path.read_text().strip()


def resolve_key(settings: Settings | None = None) -> bytes:
    """The HMAC key: the environment's, else the local demo key file if one was made."""
    settings = settings or get_settings()
    raw = os.environ.get(KEY_ENV)
    if not raw and os.environ.get(KEY_FILE_ENV):  # a compose secret: the key in a file
        try:
            raw = Path(os.environ[KEY_FILE_ENV]).read_text().strip()
        except OSError as exc:
            raise PseudonymKeyError(
                f"{KEY_FILE_ENV} names a file that cannot be read ({type(exc).__name__})"
            ) from None
    if not raw and _key_file(settings).exists():
        raw = _key_file(settings).read_text().strip()
    if not raw:
        raise PseudonymKeyError(
            f"no pseudonymisation key: set {KEY_ENV} (at least {MIN_KEY_BYTES} bytes), "
            "or run `vawg demo` which makes a local one"
        )
    key = raw.encode()
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymKeyError(f"{KEY_ENV} is too short: use at least {MIN_KEY_BYTES} bytes")
    if is_published_key(key):
        raise PseudonymKeyError(
            f"{KEY_ENV} is a published key (the example's, or one written in the repository): "
            "anyone could recompute every pseudonym with it. Make a random one: "
            "python3 -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return key


# Keys that were ever written in the repository (.env.example's, the tests' old fixed key): their
# sha256, so this file does not publish them again. tests/unit/test_secrets.py checks that each
# key-like value in the repository is refused.
PUBLISHED_KEY_SHA256 = frozenset(
    {
        "b08ac65ce60f3dd340dd34c29c63bd0edc6c036175be27f4f81c1e58456e9f8d",  # .env.example
        "1fb4c9a9dfe83f1f804f51d7b6c9b51b642c89264cbbdc2f5527c2cb971a02ec",  # tests, before #20
        "59ddd8b82cb42298af02a3daac714dbe8753de8bfa3103a3563b72f1c507c326",  # benchmarks, #20
    }
)


def is_published_key(key: bytes) -> bool:
    """The example's placeholder (any change-me value) or a key the repository holds."""
    text = key.decode(errors="replace")
    if "change-me" in text.lower() or "changeme" in text.lower():
        return True
    return hashlib.sha256(key).hexdigest() in PUBLISHED_KEY_SHA256


def normal_id(identifier: str | bytes) -> str:
    """A person identifier as it is hashed: Unicode NFKC (a full-width or compatibility form is
    the same person as its plain letters), trimmed, upper-cased. ASCII is left as it was before
    NFKC was added, so no pseudonym changes (the columnar writer hashes ASCII ids as they are)."""
    text = identifier.decode() if isinstance(identifier, bytes) else identifier
    return unicodedata.normalize("NFKC", text).strip().upper()


def in_alphabet(alphabet: str) -> Callable[[str | bytes | None], bool]:
    """Whether an identifier, normalised as it is hashed, holds only the characters of
    ``alphabet`` (one regex character class). An empty identifier passes (it stays empty)."""
    whole = re.compile(f"{alphabet}*")

    def check(identifier: str | bytes | None) -> bool:
        return not identifier or whole.fullmatch(normal_id(identifier)) is not None

    return check


class Pseudonymiser:
    """Keyed HMAC-SHA256 of a person identifier, as 64 hex characters.

    Identifiers are compared after trimming surrounding white space and upper-casing, so
    ``p123`` and ``P123 `` are the same person. An empty identifier stays empty (unknown).
    """

    def __init__(self, key: bytes):
        if len(key) < MIN_KEY_BYTES:
            raise PseudonymKeyError(f"pseudonymisation key shorter than {MIN_KEY_BYTES} bytes")
        # HMAC (RFC 2104) with its two keyed SHA-256 states computed once: hashing a value then
        # costs two state copies, about 3x faster than hmac.new or hmac.digest per call.
        # Identical output to hmac.new(key, value, sha256) (tested).
        block = hashlib.sha256().block_size
        if len(key) > block:
            key = hashlib.sha256(key).digest()
        key = key.ljust(block, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def _digest(self, value: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(value)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def __call__(self, identifier: str) -> str:
        value = normal_id(identifier)
        if not value:
            return ""
        inner = self._inner.copy()
        inner.update(value.encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def many(
        self, identifiers: Iterable[str | bytes | None], normalised: bool = False
    ) -> tuple[bytes, bytes]:
        """The pseudonyms of many identifiers in one piece, for a columnar writer.

        Returns (``hex``, ``present``): ``hex`` holds 64 hex characters per identifier, in order
        (the same text this object's call gives); ``present`` one byte per identifier, 0 where
        the identifier is empty or missing (its 64 characters are then zeros and mean nothing).
        ``normalised``: the identifiers are UTF-8 bytes that trimming and upper-casing would
        leave as they are, none empty (the caller checked): they are hashed as given.
        """
        inner_copy, outer_copy = self._inner.copy, self._outer.copy
        if normalised:
            # The caller checked: UTF-8 bytes, none empty or missing.
            normalised_bytes = cast("Iterable[bytes]", identifiers)
            return binascii.hexlify(b"".join(map(self._digest, normalised_bytes))), b""
        digests: list[bytes] = []
        present = bytearray()
        append, flag = digests.append, present.append
        absent = bytes(32)
        for identifier in identifiers:
            value = normal_id(identifier) if identifier else ""
            if not value:
                append(absent)
                flag(0)
                continue
            inner = inner_copy()
            inner.update(value.encode() if isinstance(value, str) else value)
            outer = outer_copy()
            outer.update(inner.digest())
            append(outer.digest())
            flag(1)
        return binascii.hexlify(b"".join(digests)), bytes(present)
