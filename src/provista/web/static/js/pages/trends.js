// Trends: visits over time by encounter type, hospital level or city, with zoom.
import { api, query } from "../api.js";
import { t } from "../i18n.js";
import { lines } from "../charts.js";
import { navigate } from "../app.js";

export async function render(main, params) {
  const by = params.by || "type";
  main.innerHTML = `<div class="toolbar"><label>${t("trends.by")} <select id="by"></select></label></div>
    <div class="card"><div class="chart tall" id="trend"></div></div>`;
  const select = main.querySelector("#by");
  for (const b of ["type", "level", "city"]) select.add(new Option(t(`by.${b}`), b, false, b === by));
  select.addEventListener("change", () => navigate({ by: select.value }));
  const data = await api(`/api/trends/visits?${query({ by, grain: params.grain || "week", region: params.city })}`);
  const label = (n) => (by === "type" ? t(`type.${n}`) : by === "level" ? t(`level.${n}`) : n);
  lines(main.querySelector("#trend"), data.series.map((s) => ({ ...s, name: label(s.name) })));
}
