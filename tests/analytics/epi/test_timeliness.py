"""Reporting timeliness: the 2-hour (class A) and 24-hour (classes B, C) deadlines, at their boundaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta

from provista.analytics.epi import EpiInputError, reporting_delay, timeliness

DIAGNOSED = pd.Timestamp("2024-03-01 08:00:00")


def _cases(rows: list[tuple[str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "disease_class": [c for c, _ in rows],
            "diagnosis_ts": [DIAGNOSED] * len(rows),
            "report_ts": [DIAGNOSED + pd.Timedelta(d) if d is not None else pd.NaT for _, d in rows],
        }
    )


def test_class_a_on_time_at_exactly_two_hours_and_late_one_second_after() -> None:
    judged = reporting_delay(_cases([("A", "2h"), ("A", "2h 1s"), ("甲", "2h"), ("甲", "1h 59min")]))
    assert judged["on_time"].tolist() == [True, False, True, True]
    assert judged["deadline_hours"].tolist() == [2, 2, 2, 2]
    assert judged["delay_hours"].iloc[1] == pytest.approx(2 + 1 / 3600)


@pytest.mark.parametrize("klass", ["B", "C", "乙", "丙"])
def test_classes_b_and_c_on_time_at_exactly_24_hours(klass: str) -> None:
    judged = reporting_delay(_cases([(klass, "24h"), (klass, "24h 1s"), (klass, "0s"), (klass, "3h")]))
    assert judged["on_time"].tolist() == [True, False, True, True]


def test_unjudgeable_reports_are_counted_apart() -> None:
    cases = _cases([("B", "-1h"), ("B", None), ("B", "1h"), ("B", "30h")])
    judged = reporting_delay(cases)
    assert judged["on_time"].isna().tolist() == [True, True, False, False]
    table = timeliness(cases)
    row = table.iloc[0]
    assert (row["reports"], row["negative_delay"], row["missing_times"], row["judged"], row["on_time"]) == (
        4,
        1,
        1,
        2,
        1,
    )
    assert row["share_on_time"] == 0.5
    # Clopper-Pearson by hand for 1 of 2.
    assert row["lower"] == pytest.approx(beta.ppf(0.025, 1, 2), rel=1e-12)
    assert row["upper"] == pytest.approx(beta.ppf(0.975, 2, 1), rel=1e-12)
    assert row["median_delay_hours"] == pytest.approx(15.5)


def test_share_by_group() -> None:
    cases = _cases([("A", "1h"), ("A", "3h"), ("B", "23h"), ("C", "25h"), ("C", "2h")])
    cases["county"] = ["x", "x", "x", "y", "y"]
    table = timeliness(cases, ["county", "disease_class"]).set_index(["county", "disease_class"])
    assert table.loc[("x", "A"), "share_on_time"] == 0.5
    assert table.loc[("x", "B"), "share_on_time"] == 1.0
    assert table.loc[("x", "B"), "upper"] == 1.0
    assert table.loc[("y", "C"), "on_time"] == 1
    all_on_time = table.loc[("x", "B")]
    assert all_on_time["lower"] == pytest.approx(beta.ppf(0.025, 1, 1), rel=1e-12)
    assert not np.isnan(table["share_on_time"]).any()


def test_unknown_class_is_an_error() -> None:
    with pytest.raises(EpiInputError, match="D"):
        reporting_delay(_cases([("D", "1h")]))
