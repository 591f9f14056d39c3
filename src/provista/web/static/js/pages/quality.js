// Data quality: pass rates per hospital and kind of rule (the build's report), paged, exportable.
import { api, query } from "../api.js";
import { t, num, pct, name } from "../i18n.js";
import { downloadCsv } from "../charts.js";
import { navigate } from "../app.js";

const PAGE = 20;

export async function render(main, params) {
  const offset = Number(params.offset || 0);
  const data = await api(`/api/quality/hospitals?${query({ limit: PAGE, offset })}`);
  const cols = ["conformance", "completeness", "plausibility"];
  main.innerHTML = `<div class="toolbar"><button id="csv" type="button">${t("common.csv")}</button>
    <button id="prev" type="button">${t("common.prev")}</button><button id="next" type="button">${t("common.next")}</button>
    <span id="count"></span></div><div class="card"><table><thead><tr><th>${t("quality.hospital")}</th>
    <th class="num">${t("quality.checked")}</th>${cols.map((c) => `<th class="num">${t(`quality.${c}`)}</th>`).join("")}
    </tr></thead><tbody></tbody></table></div>`;
  const body = main.querySelector("tbody");
  for (const r of data.items) {
    const tr = body.insertRow();
    tr.insertCell().textContent = name(r);
    for (const [v, f] of [[r.checked, num], ...cols.map((c) => [r[c], pct])]) {
      const td = tr.insertCell();
      td.className = "num";
      td.textContent = f(v);
    }
  }
  main.querySelector("#count").textContent = `${offset + 1}–${offset + data.items.length} / ${data.total}`;
  main.querySelector("#prev").disabled = offset === 0;
  main.querySelector("#next").disabled = offset + PAGE >= data.total;
  main.querySelector("#prev").addEventListener("click", () => navigate({ offset: Math.max(0, offset - PAGE) }));
  main.querySelector("#next").addEventListener("click", () => navigate({ offset: offset + PAGE }));
  main.querySelector("#csv").addEventListener("click", () =>
    downloadCsv("provista-quality.csv", ["hospital_id", "name", "checked", ...cols],
      data.items.map((r) => [r.hospital_id, name(r), r.checked, ...cols.map((c) => r[c])])));
}
