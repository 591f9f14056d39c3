"""The data-quality report of the build: pass rates per hospital and kind of rule."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel

from provista.api.deps import CurrentUser, EngineDep, region_filter, requires

router = APIRouter(prefix="/api/quality", tags=["quality"])


class HospitalQuality(BaseModel):
    hospital_id: str
    name_zh: str
    name_en: str
    checked: float
    conformance: float | None
    completeness: float | None
    plausibility: float | None


class Page(BaseModel):
    total: int
    items: list[HospitalQuality]


@router.get("/hospitals", response_model=Page, dependencies=[requires("admin", "analyst", "hospital")])
def hospitals(
    user: CurrentUser,
    engine: EngineDep,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=2**62),  # 64-bit in the database
) -> Page:
    """Hospitals by their lowest pass rate first (paged)."""
    where, params = region_filter(user, "h.county_code", "h.hospital_id")
    rate = (
        "1 - sum(q.failed) FILTER (WHERE kind = '{k}') "
        "/ nullif(sum(q.checked) FILTER (WHERE kind = '{k}'), 0)"
    )
    kinds = ("conformance", "completeness", "plausibility")
    rates = ", ".join(f"{rate.format(k=k)} AS {k}" for k in kinds)
    worst = ", ".join(f"coalesce({k}, 1)" for k in kinds)
    rows = engine.query(
        f"""SELECT q.hospital_id, h.name_zh, h.name_en, sum(q.checked) AS checked, {rates}
            FROM mart_quality_hospital q JOIN hospital h USING (hospital_id)
            WHERE {where} GROUP BY ALL ORDER BY least({worst}), 1""",
        params,
    )
    items = [
        HospitalQuality.model_validate({k: (None if v != v else v) for k, v in r.items()})
        for r in rows.to_dict("records")
    ]
    return Page(total=len(items), items=items[offset : offset + limit])
