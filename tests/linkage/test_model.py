"""Training's guard against Splink 5.0 refusing the probabilities its own EM computes."""

from __future__ import annotations

import pytest
from splink.internals.comparison_level import M_U_CLAMP_MIN, ComparisonLevel
from splink.internals.dialects import SplinkDialect

from provista.linkage.model import floored_m_u


def _level() -> ComparisonLevel:
    return ComparisonLevel("l.a = r.a", SplinkDialect.from_string("duckdb"), label_for_charts="a")


def test_probabilities_below_splinks_floor_are_stored_as_the_floor_while_training() -> None:
    with pytest.raises(ValueError, match="below the minimum allowed"):
        _level().m_probability = 3e-312  # what EM computed on a province of 10,912 identity records
    level, other = _level(), _level()
    with floored_m_u():
        level.m_probability = 3e-312
        level.u_probability = 0.0
        other.m_probability, other.u_probability = 0.25, 1e-300
    assert level.m_probability == M_U_CLAMP_MIN and level.u_probability == M_U_CLAMP_MIN
    assert (other.m_probability, other.u_probability) == (0.25, 1e-300)  # the others as given
    assert level._match_weight == 0.0  # log2(floor / floor): the weight Splink gives 3e-312 against 0
    with pytest.raises(ValueError, match="below the minimum allowed"):  # Splink's own setter again after
        _level().m_probability = 3e-312
