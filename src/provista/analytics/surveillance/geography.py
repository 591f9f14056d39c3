"""Where counties and cities are: centroids from the boundaries Provista ships, and distances between them.

The space-time scan grows circles from county centroids, and transfer recommendations price a move by the
distance between city centroids. Both come from ``provista/web/geo/`` (see its SOURCES.md: a county map
of about 2016, coordinates quantised to about 100 m, datum not stated), so they are good to a few hundred
metres, enough for circles made of whole counties and for road-distance proxies.

The centroid is the area-weighted centroid of a region's polygons (holes subtracted), computed in a local
equirectangular projection (x = longitude × cos of the province's mean latitude). Codes of the map's
vintage are mapped to today's with the province's ``outdated_codes``; a county the map predates (龙港市
330383, split from 苍南县 330327 in 2019) takes the centroid of the county it was split from.
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from provista.errors import ProvistaError

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
# Counties created after the map was drawn -> the county they were split from (DOMAIN.md).
SPLIT_FROM = {"330383": "330327"}


class GeographyError(ProvistaError, LookupError):
    """A region has no boundary to place it by."""


def _ring_moments(ring: list[list[float]], cos_lat: float) -> tuple[float, float, float]:
    """Signed area and first moments (Σ x·A, Σ y·A) of one ring by the shoelace formula."""
    pts = np.asarray(ring, dtype=float)
    x, y = pts[:, 0] * cos_lat, pts[:, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    area = cross.sum() / 2
    return float(area), float(((x + x1) * cross).sum() / 6), float(((y + y1) * cross).sum() / 6)


def polygon_centroid(geometry: dict[str, Any], cos_lat: float) -> tuple[float, float]:
    """Area-weighted centroid (lon, lat) of a GeoJSON Polygon or MultiPolygon; holes count negative.

    >>> square = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}
    >>> polygon_centroid(square, 1.0)
    (1.0, 1.0)
    """
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    total = mx = my = 0.0
    for rings in polygons:
        for i, ring in enumerate(rings):
            area, sx, sy = _ring_moments(ring, cos_lat)
            sign = 1.0 if i == 0 else -1.0  # exterior ring first, then holes, whatever their orientation
            flip = sign * (1.0 if area >= 0 else -1.0)
            total += flip * area
            mx += flip * sx
            my += flip * sy
    if total == 0:
        raise GeographyError("a boundary has no area", hint="check the GeoJSON geometry")
    return mx / total / cos_lat, my / total


@cache
def _features(name: str) -> tuple[dict[str, Any], ...]:
    text = resources.files("provista.web").joinpath(f"geo/{name}.geojson").read_text(encoding="utf-8")
    return tuple(json.loads(text)["features"])


def centroids(level: str = "county", province: str = "zhejiang") -> pd.DataFrame:
    """Centroid of every county (or city, ``level="city"``) on the shipped map: ``code, lon, lat``.

    Codes are today's (the province's ``outdated_codes`` applied); counties split off after the map was
    drawn are added with the centroid of the county they came from.
    """
    return _centroids(level, province).copy()


@cache
def _centroids(level: str, province: str) -> pd.DataFrame:
    from provista.synth.province import load_province

    if level not in ("county", "city"):
        raise GeographyError(f"no map of level '{level}'", hint="use county or city")
    features = _features("zhejiang_counties" if level == "county" else "zhejiang_cities")
    outdated = load_province(province).outdated_codes
    lats = [pt[1] for f in features for pt in _first_ring(f["geometry"])]
    cos_lat = math.cos(math.radians(sum(lats) / len(lats)))
    rows = {}
    for f in features:
        code = str(f["properties"]["adcode"])
        rows[outdated.get(code, code)] = polygon_centroid(f["geometry"], cos_lat)
    if level == "county":
        for new, old in SPLIT_FROM.items():
            if old in rows and new not in rows:
                rows[new] = rows[old]
    frame = pd.DataFrame(
        [(c, lon, lat) for c, (lon, lat) in sorted(rows.items())], columns=["code", "lon", "lat"]
    )
    return frame


def _first_ring(geometry: dict[str, Any]) -> list[list[float]]:
    coords = geometry["coordinates"]
    ring: list[list[float]] = coords[0][0] if geometry["type"] == "MultiPolygon" else coords[0]
    return ring


def locate(codes: list[str], level: str = "county", province: str = "zhejiang") -> pd.DataFrame:
    """Centroids of ``codes`` in that order; a code the map cannot place is an error naming it."""
    known = centroids(level, province).set_index("code")
    missing = [c for c in codes if c not in known.index]
    if missing:
        raise GeographyError(
            f"no boundary on the shipped map for {level} code(s) {', '.join(missing[:5])}",
            hint="codes must be GB/T 2260 codes of the province (see provista/web/geo/SOURCES.md)",
        )
    return known.loc[codes].reset_index()


def distance_km(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.float64]:
    """Great-circle (haversine) distances in km between every pair of points.

    >>> d = distance_km(np.array([120.0, 121.0]), np.array([30.0, 30.0]))
    >>> round(float(d[0, 1]), 1)
    96.3
    """
    lam, phi = np.radians(lon), np.radians(lat)
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    h = np.sin(dphi / 2) ** 2 + np.cos(phi)[:, None] * np.cos(phi)[None, :] * np.sin(dlam / 2) ** 2
    out: NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return out
