"""The province's hospitals: how many of each level per county, their names, vendors and catchments.

Levels follow China's hospital grading: 三级 (tertiary) in city centres, 二级 (secondary) per county, and
primary care: 一级 / township health centres (乡镇卫生院) in counties and community health centres
(社区卫生服务中心) in city districts. The capital also has provincial hospitals that serve everyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from provista.synth.province import Province

LEVEL_EN = {"三级": "tertiary", "二级": "secondary", "一级": "primary", "社区": "community"}
VENDORS = ("csv_gbk_zh", "csv_utf8_en", "xlsx_zh", "fhir_bundle", "fhir_ndjson")
# Which export systems hospitals of each level run (weights over VENDORS).
VENDOR_WEIGHTS = {
    "三级": (0.25, 0.35, 0.0, 0.2, 0.2),
    "二级": (0.4, 0.3, 0.1, 0.1, 0.1),
    "一级": (0.4, 0.1, 0.5, 0.0, 0.0),
    "社区": (0.4, 0.1, 0.5, 0.0, 0.0),
}
# Large medical equipment per hospital by level: (low, high) counts.
EQUIPMENT = {
    "三级": {"CT": (2, 5), "MRI": (1, 4), "DR": (3, 7), "US": (6, 14)},
    "二级": {"CT": (1, 2), "MRI": (0, 1), "DR": (1, 3), "US": (2, 6)},
    "一级": {"CT": (0, 0), "MRI": (0, 0), "DR": (1, 1), "US": (1, 2)},
    "社区": {"CT": (0, 0), "MRI": (0, 0), "DR": (0, 1), "US": (1, 1)},
}
# Share of a county's visits that go to each tier.
SHARE_PROVINCIAL, SHARE_CITY, SHARE_CITY_LOCAL_BONUS, SHARE_PRIMARY = 0.04, 0.22, 0.15, 0.29
_ORDINALS = "一二三四五六七八九十"
TIER_SALT = {"provincial": 1, "city": 2, "county": 3, "primary": 4}


def tier_draw(person_rows: np.ndarray, tier: str) -> np.ndarray:
    """A fixed uniform number in [0, 1) per resident and tier (a hash, so no state is stored)."""
    salt = np.uint64((TIER_SALT[tier] * 0xBF58476D1CE4E5B9) % (1 << 64))
    x = person_rows.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + salt
    x ^= x >> np.uint64(31)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(29)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


@dataclass
class Hospital:
    hospital_id: str
    name_zh: str
    name_en: str
    level: str  # 三级 / 二级 / 一级 / 社区
    county: int  # index into Province.counties
    vendor: str
    weight: float  # relative attraction within its tier
    tier: str  # provincial / city / county / primary
    equipment: dict[str, int] = field(default_factory=dict)
    # demand: county index -> expected visits over the whole window
    demand: dict[int, float] = field(default_factory=dict)
    # Residents are loyal: within a tier each resident uses one hospital, the one whose slot holds the
    # resident's tier_draw (see ``tier_draw``); slots are sized by weight.
    slot: tuple[float, float] = (0.0, 1.0)

    @property
    def index(self) -> int:
        return int(self.hospital_id[-4:])


def build_hospitals(province: Province, core_only: bool, seed: int) -> list[Hospital]:
    """Lay out the province's hospitals; ``core_only`` keeps tertiary and one secondary per county."""
    rng = np.random.default_rng([seed, 2])
    pop = province.county_population
    hospitals: list[Hospital] = []

    def add(name_zh: str, name_en: str, level: str, county: int, weight: float, tier: str) -> None:
        hid = f"H{province.counties[county].code}{len(hospitals) + 1:04d}"
        vendor = VENDORS[int(rng.choice(len(VENDORS), p=np.array(VENDOR_WEIGHTS[level])))]
        equipment = {k: int(rng.integers(lo, hi + 1)) for k, (lo, hi) in EQUIPMENT[level].items()}
        hospitals.append(Hospital(hid, name_zh, name_en, level, county, vendor, weight, tier, equipment))

    capital = [i for i, c in enumerate(province.counties) if c.city_code == province.capital_code]
    if capital:
        seat = max(capital, key=lambda i: pop[i] if province.counties[i].name_zh.endswith("区") else -1)
        for zh, en in (
            ("人民医院", "Provincial People's Hospital"),
            ("中医院", "Provincial Hospital of TCM"),
            ("肿瘤医院", "Provincial Cancer Hospital"),
        ):
            add(province.name_zh + zh, f"{province.name_en} {en}", "三级", seat, 1.0, "provincial")
    for city_code, (city_zh, city_en) in province.cities.items():
        members = [i for i, c in enumerate(province.counties) if c.city_code == city_code]
        districts = sorted(
            (i for i in members if province.counties[i].name_zh.endswith("区")), key=lambda i: -pop[i]
        ) or sorted(members, key=lambda i: -pop[i])
        n_tertiary = max(1, round(pop[members].sum() / 2_500_000))
        for k in range(n_tertiary):
            zh, en = (
                (f"{city_zh}第{_ORDINALS[k]}人民医院", f"{city_en} No.{k + 1} People's Hospital")
                if k != 1
                else (f"{city_zh}中医院", f"{city_en} Hospital of TCM")
            )
            add(zh, en, "三级", districts[k % len(districts)], 1.0, "city")
    for i, county in enumerate(province.counties):
        add(f"{county.name_zh}人民医院", f"{county.name_en} People's Hospital", "二级", i, 1.0, "county")
        if core_only:
            continue
        if pop[i] > 300_000:
            add(f"{county.name_zh}中医院", f"{county.name_en} Hospital of TCM", "二级", i, 0.5, "county")
        if pop[i] > 900_000:
            add(
                f"{county.name_zh}第二人民医院",
                f"{county.name_en} No.2 People's Hospital",
                "二级",
                i,
                0.6,
                "county",
            )
        is_district = county.name_zh.endswith("区")
        n_primary = max(1, min(9, round(pop[i] / (150_000 if is_district else 200_000))))
        for k in range(n_primary):
            if is_district:
                add(
                    f"{county.name_zh}第{_ORDINALS[k]}社区卫生服务中心",
                    f"{county.name_en} Community Health Centre No.{k + 1}",
                    "社区",
                    i,
                    1.0,
                    "primary",
                )
            else:
                add(
                    f"{county.name_zh}第{_ORDINALS[k]}卫生院",
                    f"{county.name_en} Township Health Centre No.{k + 1}",
                    "一级",
                    i,
                    1.0,
                    "primary",
                )
    _ensure_every_vendor(hospitals, rng)
    return hospitals


def _ensure_every_vendor(hospitals: list[Hospital], rng: np.random.Generator) -> None:
    """Every export format appears at least once, whatever the scale."""
    for vendor in VENDORS:
        if any(h.vendor == vendor for h in hospitals):
            continue
        allowed = [
            h
            for h in hospitals
            if VENDOR_WEIGHTS[h.level][VENDORS.index(vendor)] > 0
            and sum(g.vendor == h.vendor for g in hospitals) > 1
        ]
        if allowed:  # a small province may not have a hospital that could take every format
            allowed[int(rng.integers(len(allowed)))].vendor = vendor


def allocate_demand(province: Province, hospitals: list[Hospital], visits_by_county: np.ndarray) -> None:
    """Split each county's expected visits over the hospitals that serve it (fills ``Hospital.demand``)."""
    by_tier: dict[tuple[str, str], list[Hospital]] = {}
    provincial = [h for h in hospitals if h.tier == "provincial"]
    for h in hospitals:
        if h.tier == "city":
            by_tier.setdefault(("city", province.counties[h.county].city_code), []).append(h)
        elif h.tier in ("county", "primary"):
            by_tier.setdefault((h.tier, province.counties[h.county].code), []).append(h)
    groups = [provincial, *by_tier.values()]
    for members in groups:
        edges = np.concatenate([[0.0], np.cumsum([h.weight for h in members])]) / sum(
            h.weight for h in members
        )
        for h, lo, hi in zip(members, edges[:-1], edges[1:], strict=True):
            h.slot = (float(lo), float(hi))
    for i, county in enumerate(province.counties):
        visits = float(visits_by_county[i])
        city = by_tier.get(("city", county.city_code), [])
        local = by_tier.get(("county", county.code), [])
        primary = by_tier.get(("primary", county.code), [])
        has_city_hospital_here = any(h.county == i for h in city)
        shares = {
            "provincial": SHARE_PROVINCIAL if provincial else 0.0,
            "city": (SHARE_CITY + (SHARE_CITY_LOCAL_BONUS if has_city_hospital_here else 0.0))
            if city
            else 0.0,
            "primary": SHARE_PRIMARY if primary else 0.0,
        }
        shares["county"] = 1.0 - sum(shares.values())
        for tier, members in (
            ("provincial", provincial),
            ("city", city),
            ("county", local),
            ("primary", primary),
        ):
            if not members or shares[tier] <= 0:
                continue
            weights = np.array([h.weight for h in members])
            for h, w in zip(members, weights / weights.sum(), strict=True):
                h.demand[i] = h.demand.get(i, 0.0) + visits * shares[tier] * w
