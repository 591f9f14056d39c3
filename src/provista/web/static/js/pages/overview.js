// Overview (and the big screen): KPI cards with sparklines and the change against the last period.
import { api } from "../api.js";
import { t, num, date } from "../i18n.js";
import { spark } from "../charts.js";

export async function render(main) {
  const data = await api("/api/overview/kpis");
  main.innerHTML = `<p class="muted">${t("kpi.as_of")} <span id="as-of"></span></p><div class="grid" id="kpis"></div>`;
  main.querySelector("#as-of").textContent = date(data.as_of);
  const grid = main.querySelector("#kpis");
  for (const k of data.kpis) {
    const card = document.createElement("div");
    card.className = "card kpi";
    card.dataset.kpi = k.key;
    const change = k.previous ? (k.value - k.previous) / k.previous : null;
    card.innerHTML = `<div class="label"></div><div class="value"></div><div class="change"></div><div class="spark"></div>`;
    card.querySelector(".label").textContent = t(`kpi.${k.key}`);
    card.querySelector(".value").textContent = k.value == null ? t("kpi.not_yet") : num(k.value);
    if (change != null) {
      const el = card.querySelector(".change");
      el.textContent = `${change >= 0 ? "▲" : "▼"} ${num(Math.abs(change) * 100, 1)}% ${t("kpi.vs")}`;
      el.classList.add(change >= 0 ? "up" : "down");
    }
    grid.append(card);
    if (k.spark.length) spark(card.querySelector(".spark"), k.spark);
  }
}
