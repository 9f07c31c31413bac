"""Keyed pseudonyms: stable for a key, different across keys, never the identifier itself."""

from __future__ import annotations

import hashlib
import hmac
import stat

import pytest

from vawg_warehouse.config import get_settings
from vawg_warehouse.ingest.privacy import Pseudonymiser, PseudonymKeyError, demo_key, resolve_key

KEY = b"k" * 32


def test_pseudonym_is_the_hmac_sha256_of_the_normalised_identifier() -> None:
    expected = hmac.new(KEY, b"P123456789", hashlib.sha256).hexdigest()
    pseudonymise = Pseudonymiser(KEY)
    assert pseudonymise("P123456789") == expected
    assert pseudonymise(" p123456789 ") == expected  # same person, however it was typed
    assert pseudonymise("P123456789") == expected  # the cache returns the same value


@pytest.mark.parametrize("key", [b"k" * 32, b"a-much-longer-key-" * 8], ids=["32 B", "144 B"])
def test_equals_the_standard_library_hmac_for_short_and_long_keys(key: bytes) -> None:
    for value in ("P1", "P000000001", "Ünïcödé-7"):
        expected = hmac.new(key, value.upper().encode(), hashlib.sha256).hexdigest()
        assert Pseudonymiser(key)(value) == expected


def test_another_key_gives_unlinkable_pseudonyms() -> None:
    assert Pseudonymiser(KEY)("P1") != Pseudonymiser(b"x" * 32)("P1")


def test_an_empty_identifier_stays_empty() -> None:
    assert Pseudonymiser(KEY)("  ") == ""


def test_a_short_key_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    with pytest.raises(PseudonymKeyError):
        Pseudonymiser(b"short")
    monkeypatch.setenv("VAWG_HOME", str(tmp_path))
    monkeypatch.setenv("VAWG_PSEUDONYM_KEY", "too-short")
    with pytest.raises(PseudonymKeyError, match="too short"):
        resolve_key()


def test_no_key_anywhere_is_an_error_not_a_default(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("VAWG_HOME", str(tmp_path))
    monkeypatch.delenv("VAWG_PSEUDONYM_KEY", raising=False)
    with pytest.raises(PseudonymKeyError, match="VAWG_PSEUDONYM_KEY"):
        resolve_key()


def test_the_demo_key_is_made_once_and_readable_by_the_owner_only(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("VAWG_HOME", str(tmp_path))
    monkeypatch.delenv("VAWG_PSEUDONYM_KEY", raising=False)
    first = demo_key()
    assert demo_key() == first and len(first) == 64
    key_file = get_settings().secrets_dir / "pseudonym.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert resolve_key() == first.encode()
    monkeypatch.setenv("VAWG_PSEUDONYM_KEY", "e" * 40)
    assert resolve_key() == b"e" * 40  # the environment wins over the demo file


def test_person_ids_are_compared_after_nfkc_normalisation() -> None:
    """A full-width or compatibility form of an id is the same person (issue 20); ASCII ids keep
    the pseudonyms they had."""
    key = ("k" * 40).encode()
    pseudonymise = Pseudonymiser(key)
    plain = pseudonymise("P123456")
    assert pseudonymise("\uff30\uff11\uff12\uff13\uff14\uff15\uff16") == plain  # full-width
    assert pseudonymise(" p123456 ") == plain
    assert plain == hmac.new(key, b"P123456", hashlib.sha256).hexdigest()  # ASCII unchanged
    text, present = pseudonymise.many(["\uff30123456", "P123456", None])
    assert text[:64].decode() == text[64:128].decode() == plain and present == b"\x01\x01\x00"


def test_the_key_may_come_from_a_file(tmp_path, monkeypatch) -> None:
    """A compose secret: VAWG_PSEUDONYM_KEY_FILE names a file holding the key alone."""
    key = "k" * 20 + "0123456789abcdefXYZ"
    (tmp_path / "pseudonym.key").write_text(key + "\n")
    monkeypatch.delenv("VAWG_PSEUDONYM_KEY", raising=False)
    monkeypatch.setenv("VAWG_PSEUDONYM_KEY_FILE", str(tmp_path / "pseudonym.key"))
    assert resolve_key() == key.encode()
    monkeypatch.setenv("VAWG_PSEUDONYM_KEY_FILE", str(tmp_path / "missing.key"))
    with pytest.raises(PseudonymKeyError, match="cannot be read"):
        resolve_key()
