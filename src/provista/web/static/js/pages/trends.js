// Trends: visits over time split by encounter type, hospital level, city, county or department, filtered
// by level, department and type, with zoom. Every choice lives in the URL.
import { api, query } from "../api.js";
import { t } from "../i18n.js";
import { lines, downloadCsv } from "../charts.js";
import { navigate } from "../app.js";

const SPLITS = ["type", "level", "city", "county", "department"];

export const label = (by, n) =>
  by === "type" ? t(`type.${n}`) : by === "level" ? t(`level.${n}`) : by === "department" ? t(`dept.${n}`) : n;

export function select(el, values, current, text, onChange, all = true) {
  if (all) el.add(new Option(t("trends.all"), "", false, !current));
  for (const v of values) el.add(new Option(text(v), v, false, v === current));
  el.addEventListener("change", () => onChange(el.value || null));
}

export async function render(main, params) {
  const by = params.by || "type";
  main.innerHTML = `<div class="toolbar">
      <label>${t("trends.by")} <select id="by"></select></label>
      <label>${t("trends.level")} <select id="level"></select></label>
      <label>${t("trends.department")} <select id="department"></select></label>
      <label>${t("trends.type")} <select id="type"></select></label>
      <button id="csv" type="button">${t("common.csv")}</button>
    </div>
    <div class="card"><div class="chart tall" id="trend"></div></div>`;
  const facets = await api("/api/trends/facets");
  select(main.querySelector("#by"), SPLITS, by, (b) => t(`by.${b}`), (v) => navigate({ by: v }), false);
  select(main.querySelector("#level"), facets.levels, params.level, (v) => label("level", v), (v) => navigate({ level: v }));
  select(main.querySelector("#department"), facets.departments, params.department, (v) => label("department", v),
    (v) => navigate({ department: v }));
  select(main.querySelector("#type"), facets.types, params.type, (v) => label("type", v), (v) => navigate({ type: v }));
  const data = await api(`/api/trends/visits?${query({
    by, grain: params.grain || "week", region: params.county || params.city,
    level: params.level, department: params.department, type: params.type, from: params.from, to: params.to,
  })}`);
  const series = data.series.map((s) => ({ ...s, name: label(by, s.name) }));
  lines(main.querySelector("#trend"), series);
  main.querySelector("#csv").addEventListener("click", () =>
    downloadCsv(`provista-trend-${by}.csv`, ["series", "period", "visits"],
      series.flatMap((s) => s.points.map(([d, v]) => [s.name, d, v]))));
}
