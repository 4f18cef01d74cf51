"""The pair registry file: what it accepts, and errors that name the file, the pair and the key."""

from __future__ import annotations

from fractions import Fraction

import pytest

from console.domain.pairs import Orientation, PairRegistryError, load_pairs, parse_pairs

GOOD = '''
[[pair]]
kalshi_ticker = "KXSENATEGA-26-D"
polymarket_token_id = "7132104567925221259"
polymarket_condition_id = "0x5f0b1c"
orientation = "same"
verified = true
notes = "Kalshi settles on the AP call; Polymarket on certification."
polymarket_fee_rate = "0.04"

[[pair]]
kalshi_ticker = "KXSENATEGA-26-D"
polymarket_token_id = "8844"
polymarket_condition_id = "0x5f0b1c"
orientation = "inverted"
'''


def test_registry_loads_pairs(tmp_path) -> None:
    path = tmp_path / "pairs.toml"
    path.write_text(GOOD)
    first, second = load_pairs(path)
    assert (first.orientation, first.verified, first.polymarket_fee_rate) == (Orientation.SAME, True, Fraction(1, 25))
    assert (second.orientation, second.verified, second.notes, second.polymarket_fee_rate) == (
        Orientation.INVERTED, False, "", None)
    assert parse_pairs("") == []


@pytest.mark.parametrize(("edit", "message"), [
    (("verified = true", "verifed = true"), "pair #1 (KXSENATEGA-26-D): unknown key 'verifed' (allowed: kalshi_ticker"),
    (('orientation = "same"', 'orientation = "flipped"'), "orientation: 'flipped': use \"same\" or \"inverted\""),
    (('verified = true', 'verified = "yes"'), "verified: Input should be a valid boolean"),
    (('polymarket_condition_id = "0x5f0b1c"\norientation = "same"', 'orientation = "same"'),
     "missing key 'polymarket_condition_id'"),
    (('"0.04"', '"1.5"'), "polymarket_fee_rate: '1.5' must be in [0, 1)"),
    (('polymarket_token_id = "8844"', 'polymarket_token_id = "7132104567925221259"'),
     "pair #2 (KXSENATEGA-26-D): duplicate"),
    (("[[pair]]", "[pairs]\nx = 1\n[[pair]]"), "unknown top-level key(s) ['pairs']"),
    (("[[pair]]", "[[pair"), "not valid TOML"),
])
def test_registry_errors_say_where(edit: tuple[str, str], message: str) -> None:
    with pytest.raises(PairRegistryError) as err:
        parse_pairs(GOOD.replace(*edit, 1), "/data/pairs.toml")
    assert message in str(err.value) and str(err.value).startswith("/data/pairs.toml")


def test_missing_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(PairRegistryError, match="cannot read the pair registry"):
        load_pairs(tmp_path / "nope.toml")
