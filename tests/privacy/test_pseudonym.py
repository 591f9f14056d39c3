"""Pseudonyms are HMAC-SHA256 (RFC 2104) of the purpose, a separator and the value, for any key length."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from provista.privacy.pseudonym import Pseudonymiser

VALUES = ["", "P00000001", "110101198001020016", "张三", "\x1f", "x" * 200]


@pytest.mark.parametrize("length", [16, 32, 63, 64, 65, 100])
def test_pseudonyms_are_the_hmac_sha256_of_purpose_and_value(length: int) -> None:
    key = bytes((7 * i + length) % 256 for i in range(length))
    pseudo = Pseudonymiser(key)
    for purpose in ("patient", "id_number"):
        expected = [
            hmac.new(key, f"{purpose}\x1f{v}".encode(), hashlib.sha256).hexdigest()[:32] for v in VALUES
        ]
        assert pseudo.tokens(purpose, VALUES) == expected
        assert pseudo.tokens(purpose, VALUES) == expected  # the keyed states are reused, not consumed
    assert set(pseudo.tokens("patient", VALUES)).isdisjoint(pseudo.tokens("id_number", VALUES))
