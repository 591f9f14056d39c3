// Heat maps: ICD-10 chapter × week of admission, department × hour of day.
import { api, query } from "../api.js";
import { t } from "../i18n.js";
import { heat } from "../charts.js";
import { navigate } from "../app.js";

export async function render(main, params) {
  const kind = params.kind || "chapter_week";
  main.innerHTML = `<div class="toolbar"><label>${t("heat.kind")} <select id="kind"></select></label></div>
    <div class="card"><div class="chart tall" id="heat"></div></div>`;
  const select = main.querySelector("#kind");
  for (const k of ["chapter_week", "department_hour"]) select.add(new Option(t(`heat.${k}`), k, false, k === kind));
  select.addEventListener("change", () => navigate({ kind: select.value }));
  const data = await api(`/api/trends/heatmap?${query({ kind, region: params.city })}`);
  heat(main.querySelector("#heat"), data);
}
