"""Every detector against the golden outputs of R surveillance 1.20.3, row by row (one test per config).

Alarms, counts and integer upper bounds must agree exactly; continuous values to 1e-6 relative (they
agree to about 1e-9 or better); NA where R gives NA.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from provista.analytics.surveillance.detectors import CountSeries, Detection, detect_outbreaks

ROOT = Path(__file__).resolve().parents[3]
MANIFEST = ROOT.parent / "shared" / "reference" / "surveillance" / "manifest.json"
OUTPUTS = (
    sorted(k for k, v in json.loads(MANIFEST.read_text())["files"].items() if v["kind"] == "output")
    if MANIFEST.exists()
    else ["outputs/missing__reference.csv"]
)
RTOL = 1e-6

GLR = {
    "c.ARL": "5",
    "mu0.S": "1",
    "mu0.trend": "FALSE",
    "mu0.refit": "FALSE",
    "Mtilde": "1",
    "M": "-1",
    "change": "intercept",
    "dir": "inc",
    "ret": "value",
}
#: config → our method and the control list of its R call (range from the manifest where the call set it)
CONFIGS: dict[str, tuple[str, dict[str, str]]] = {
    "earsC_C1": ("ears-c1", {"method": "C1"}),
    "earsC_C2": ("ears-c2", {"method": "C2"}),
    "earsC_C3": ("ears-c3", {"method": "C3"}),
    "farringtonFlexible_default": ("farrington-flexible", {}),
    "farringtonFlexible_noufaily": (
        "farrington-flexible",
        {
            "noPeriods": "10",
            "pastWeeksNotIncluded": "26",
            "weightsThreshold": "2.58",
            "pThresholdTrend": "1",
            "thresholdMethod": "nbPlugin",
        },
    ),
    "farrington_classic_b3w3": ("farrington", {"b": "3", "w": "3", "range": "manifest"}),
    "cusum_default": ("cusum", {"range": "manifest"}),
    "glrpois_value": ("glr-pois", {**GLR, "alpha": "0", "range": "manifest"}),
    "glrnb_value": ("glr-nb", {**GLR, "alpha": "NULL", "range": "manifest"}),
}


def run_config(series: CountSeries, entry: dict[str, Any]) -> Detection:
    config = entry["file"].split("__", 1)[1].removesuffix(".csv")
    method, params = CONFIGS[config]
    span = entry["control_resolved"]["range"]
    params = {k: f"{span['first']}:{span['last']}" if v == "manifest" else v for k, v in params.items()}
    return detect_outbreaks(series, method, **params)


def assert_same_column(name: str, ours: pd.Series, theirs: pd.Series, t: pd.Series) -> None:
    if (
        name == "alarm"
        or theirs.dtype == bool
        or set(theirs.dropna().unique()) <= {True, False, "TRUE", "FALSE"}
    ):
        expected = theirs.map({True: True, False: False, "TRUE": True, "FALSE": False})
        got = ours.astype("boolean")
        assert (expected.isna() == got.isna()).all(), f"{name}: NA at different rows"
        bad = expected.notna() & (expected != got)
        assert not bad.any(), f"{name} differs at t = {t[bad].tolist()[:10]}"
        return
    if not pd.api.types.is_numeric_dtype(theirs):
        bad = theirs.astype(str) != ours.astype(str)
        assert not bad.any(), f"{name} differs at t = {t[bad].tolist()[:10]}"
        return
    a = theirs.to_numpy(float)
    b = pd.to_numeric(ours).to_numpy(float)
    assert (np.isnan(a) == np.isnan(b)).all(), f"{name}: NA at t = {t[np.isnan(a) != np.isnan(b)].tolist()}"
    finite = np.isfinite(a)
    assert (a[~finite & ~np.isnan(a)] == b[~finite & ~np.isnan(a)]).all(), f"{name}: infinities differ"
    if name == "upperbound" and np.all(a[finite] == np.round(a[finite])):
        bad = finite & (a != b)
        assert not bad.any(), f"integer {name} differs at t = {t[bad].tolist()[:10]}"
    else:
        np.testing.assert_allclose(b[finite], a[finite], rtol=RTOL, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("output", OUTPUTS, ids=lambda o: o.split("__", 1)[-1].removesuffix(".csv"))
def test_reproduces_r_surveillance(
    output: str, reference: Path, reference_manifest: dict[str, Any], salm_newport: CountSeries
):
    entry = reference_manifest["files"][output]
    assert entry["dataset"] == "salmNewportGermany"
    detection = run_config(salm_newport, entry)
    theirs = pd.read_csv(reference / output, keep_default_na=False, na_values=["NA"])
    ours = detection.table
    assert len(ours) == entry["n_rows"] == len(theirs)
    assert (ours["t"].to_numpy() == theirs["t"].to_numpy()).all()
    assert (ours["date"] == theirs["date"]).all()
    assert (ours["observed"].to_numpy() == theirs["observed"].to_numpy()).all()
    assert detection.alarms == entry["n_alarms"]
    for name in theirs.columns.drop(["t", "date", "year", "epoch_in_year", "observed"]):
        assert name in ours.columns, f"column {name} missing"
        assert_same_column(name, ours[name], theirs[name], theirs["t"])


def test_estimated_parameters_match_the_manifest(
    reference_manifest: dict[str, Any], salm_newport: CountSeries
):
    files = reference_manifest["files"]
    cusum = run_config(salm_newport, files["outputs/salmNewportGermany__cusum_default.csv"])
    assert cusum.control["m"] == pytest.approx(
        files["outputs/salmNewportGermany__cusum_default.csv"]["control_resolved"]["m"], rel=1e-12
    )
    for config in ("glrpois_value", "glrnb_value"):
        entry = files[f"outputs/salmNewportGermany__{config}.csv"]
        detection = run_config(salm_newport, entry)
        assert detection.control["alpha"] == pytest.approx(entry["alpha_used"], rel=1e-9)
        expected = list(entry["mu0_model_coefficients"].values())
        np.testing.assert_allclose(detection.control["mu0_coefficients"], expected, rtol=1e-9)


def test_every_reference_config_is_mapped(reference_manifest: dict[str, Any]):
    configs = {
        v["file"].split("__", 1)[1].removesuffix(".csv")
        for v in reference_manifest["files"].values()
        if v["kind"] == "output"
    }
    assert configs <= set(CONFIGS)
