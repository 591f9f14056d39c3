"""The data-quality report: pass rates per hospital by kind of rule, the worst rules, and the trend across
loads; printed by `provista quality` and written as a self-contained HTML page (no CDN)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from provista.engine import DuckDBEngine
from provista.quality.rules import KINDS, load_rules


@dataclass
class QualityReport:
    by_hospital: pd.DataFrame  # hospital_id, name_zh, records, conformance, completeness, plausibility
    worst_rules: pd.DataFrame  # rule_id, kind, severity, zh, en, failed, checked, rate, threshold,
    # hospitals_over_threshold, status
    trend: pd.DataFrame  # load (when the build or ingest started), checks, pass_rate


def quality_report(engine: DuckDBEngine) -> QualityReport:
    """Pass rate = 1 − failed / checked, summed over the rules of a kind (each rule checks every record)."""
    results = engine.frame(
        "SELECT d.*, coalesce(h.name_zh, d.hospital_id, 'CDC / other') AS name_zh, l.run_started "
        "FROM dq_result d LEFT JOIN hospital h USING (hospital_id) LEFT JOIN ingest_log l USING (load_id)"
    )
    rules = {r.id: r for r in load_rules()}
    results["hospital_id"] = results["hospital_id"].fillna("-")
    by_kind = results.groupby(["hospital_id", "name_zh", "kind"])[["failed", "checked"]].sum().reset_index()
    by_kind["pass_rate"] = 1 - by_kind["failed"] / by_kind["checked"].where(by_kind["checked"] > 0)
    wide = by_kind.pivot_table(
        index=["hospital_id", "name_zh"], columns="kind", values="pass_rate"
    ).reset_index()
    records = results[results["rule_id"] == "STRUCTURE"].groupby("hospital_id")["checked"].sum()
    wide["records"] = wide["hospital_id"].map(records).fillna(0).astype(int)
    for kind in KINDS:
        if kind not in wide:
            wide[kind] = float("nan")
    wide = wide[["hospital_id", "name_zh", "records", *KINDS]].sort_values(list(KINDS), na_position="last")
    per_rule = results.groupby("rule_id")[["failed", "checked"]].sum().reset_index()
    per_rule["rate"] = per_rule["failed"] / per_rule["checked"].where(per_rule["checked"] > 0)
    per_rule["kind"] = per_rule["rule_id"].map(lambda r: rules[r].kind)
    per_rule["severity"] = per_rule["rule_id"].map(lambda r: rules[r].severity)
    per_rule["zh"] = per_rule["rule_id"].map(lambda r: rules[r].zh)
    per_rule["en"] = per_rule["rule_id"].map(lambda r: rules[r].en)
    per_rule["threshold"] = per_rule["rule_id"].map(lambda r: rules[r].threshold)
    # A rule's threshold holds per hospital: the rule fails where any hospital's failure rate exceeds it.
    by_hospital = results.groupby(["rule_id", "hospital_id"])[["failed", "checked"]].sum().reset_index()
    by_hospital["rate"] = by_hospital["failed"] / by_hospital["checked"].where(by_hospital["checked"] > 0)
    over = by_hospital[by_hospital["rate"] > by_hospital["rule_id"].map(lambda r: rules[r].threshold)]
    counts = over.groupby("rule_id").size()
    per_rule["hospitals_over_threshold"] = per_rule["rule_id"].map(counts).fillna(0).astype(int)
    per_rule["status"] = (per_rule["hospitals_over_threshold"] == 0).map({True: "pass", False: "fail"})
    worst = per_rule.sort_values("rate", ascending=False).reset_index(drop=True)
    results["load"] = pd.to_datetime(results["run_started"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    daily = results.groupby("load")[["failed", "checked"]].sum().reset_index()
    daily["pass_rate"] = 1 - daily["failed"] / daily["checked"].where(daily["checked"] > 0)
    trend = daily.rename(columns={"checked": "checks"})[["load", "checks", "pass_rate"]]
    return QualityReport(wide.reset_index(drop=True), worst, trend)


def _pct(value: float) -> str:
    return "" if pd.isna(value) else f"{value:.2%}"


def _bar(value: float) -> str:
    width = 0 if pd.isna(value) else max(0.0, min(1.0, value)) * 100
    colour = "#2e7d32" if not pd.isna(value) and value >= 0.99 else "#f9a825" if value >= 0.95 else "#c62828"
    return (
        f'<div class="bar"><span style="width:{width:.1f}%;background:{colour}"></span></div>'
        f"<small>{_pct(value)}</small>"
    )


def write_html(report: QualityReport, path: Path, title: str = "数据质量报告 / Data quality report") -> None:
    """A self-contained page: inline CSS, no scripts, no external resources."""
    esc = html.escape
    hospitals = "".join(
        f"<tr><td>{esc(str(r['hospital_id']))}</td><td>{esc(str(r['name_zh']))}</td><td>{r['records']:,}</td>"
        + "".join(f"<td>{_bar(r[k])}</td>" for k in KINDS)
        + "</tr>"
        for r in report.by_hospital.to_dict("records")
    )
    rules = "".join(
        f"<tr class='{r['status']}'><td>{esc(r['rule_id'])}</td><td>{esc(r['kind'])}</td>"
        f"<td>{esc(r['severity'])}</td><td>{esc(r['zh'])}<br><small>{esc(r['en'])}</small></td><td>{r['failed']:,}</td>"
        f"<td>{r['checked']:,}</td><td>{_pct(r['rate'])}</td><td>{_pct(r['threshold'])}</td>"
        f"<td>{r['hospitals_over_threshold']:,}</td>"
        f"<td>{esc(r['status'])}</td></tr>"
        for r in report.worst_rules.to_dict("records")
    )
    trend = "".join(
        f"<tr><td>{r['load']}</td><td>{r['checks']:,}</td><td>{_bar(r['pass_rate'])}</td></tr>"
        for r in report.trend.to_dict("records")
    )
    kinds = "".join(f"<th>{k}</th>" for k in KINDS)
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>
body{{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}}
table{{border-collapse:collapse;margin-bottom:2em}}
td,th{{border:1px solid #ddd;padding:4px 8px;text-align:left}}
th{{background:#f3f3f3}} .bar{{display:inline-block;width:120px;height:10px;background:#eee;margin-right:6px}}
.bar span{{display:block;height:10px}} tr.fail td{{background:#fff3f3}}
</style></head><body>
<h1>{esc(title)}</h1>
<p>通过率 = 1 − 不合格记录 / 检查记录（按规则类型汇总）。
Pass rate = 1 − failed / checked, over the rules of a kind
(Kahn framework: conformance 一致性, completeness 完整性, plausibility 合理性).</p>
<h2>各医院 / By hospital (worst first)</h2>
<table><tr><th>hospital</th><th>名称</th><th>records</th>{kinds}</tr>{hospitals}</table>
<h2>规则 / Rules (worst first)</h2>
<table><tr><th>rule</th><th>kind</th><th>severity</th><th>说明 / description</th>
<th>failed</th><th>checked</th>
<th>rate</th><th>threshold</th><th>hospitals over it</th><th>status</th></tr>{rules}</table>
<h2>趋势 / Trend across loads</h2>
<table><tr><th>load (started)</th><th>checks</th><th>pass rate</th></tr>{trend}</table>
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
