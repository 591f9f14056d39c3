// Bed-demand forecast: a hospital's (or one department's) midnight census, the forecast after it with its 80 % and
// 95 % prediction intervals as shaded bands and the open beds as a line; beside it, the rolling-origin backtest of
// the same series against the seasonal-naive baseline, and a plain sentence wherever the model does not beat it.
// Labels come from the "forecast" block of the i18n files; the choices live in the URL.
import { api, query } from "../api.js";
import { t, num, pct, name, date } from "../i18n.js";
import { chart, downloadCsv } from "../charts.js";
import { navigate } from "../app.js";

const HORIZONS = [7, 14, 21, 28];
const toolbox = () => ({ feature: { saveAsImage: { title: t("common.png"), pixelRatio: 2 } } });
const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
const fill = (text, values) => Object.entries(values).reduce((s, [k, v]) => s.replaceAll(`{${k}}`, v), text);

export async function render(main, params) {
  const units = await api("/api/forecast/units");
  if (!units.hospitals.length) {
    main.innerHTML = `<p class="muted">${t("forecast.no_hospital")}</p>`;
    return;
  }
  const hospital = units.hospitals.find((h) => h.hospital_id === params.hospital) || units.hospitals[0];
  const department = hospital.departments.includes(params.department) ? params.department : null;
  const horizon = HORIZONS.includes(Number(params.horizon)) ? Number(params.horizon) : 14;
  main.innerHTML = `
    <div class="toolbar">
      <label>${t("forecast.hospital")} <select id="fc-hospital"></select></label>
      <label>${t("forecast.department")} <select id="fc-department"></select></label>
      <label>${t("forecast.horizon")} <select id="fc-horizon"></select></label>
      <button id="fc-csv" type="button">${t("common.csv")}</button>
    </div>
    <div class="two">
      <div class="card"><h3 id="fc-title"></h3><div class="chart tall" id="fc-chart"></div>
        <p class="muted" id="fc-model"></p></div>
      <div class="card"><h3>${t("forecast.backtest")}</h3><p class="muted" id="fc-origins"></p>
        <table id="fc-table"><thead><tr><th>${t("forecast.days_ahead")}</th>
          <th class="num">${t("forecast.mae_model")}</th><th class="num">${t("forecast.mae_baseline")}</th>
          <th class="num">${t("forecast.change")}</th><th class="num">${t("forecast.cover80")}</th>
          <th class="num">${t("forecast.cover95")}</th></tr></thead><tbody></tbody></table>
        <p id="fc-verdict" role="status"></p><p class="muted" id="fc-coverage"></p>
        <p class="muted">${t("forecast.explain")}</p></div>
    </div>`;
  const pick = (id, values, current, text, key) => {
    const el = main.querySelector(id);
    for (const v of values) el.add(new Option(text(v), v ?? "", false, v === current));
    el.addEventListener("change", () => navigate({ [key]: el.value || null, ...(key === "hospital" ? { department: null } : {}) }));
  };
  pick("#fc-hospital", units.hospitals.map((h) => h.hospital_id), hospital.hospital_id,
    (id) => `${name(units.hospitals.find((h) => h.hospital_id === id))} (${id})`, "hospital");
  pick("#fc-department", [null, ...hospital.departments], department,
    (d) => (d ? t(`dept.${d}`) : t("forecast.whole_hospital")), "department");
  pick("#fc-horizon", HORIZONS, horizon, (h) => fill(t("forecast.days"), { n: h }), "horizon");

  const where = { hospital: hospital.hospital_id, department };
  const [series, backtest] = await Promise.all([
    api(`/api/forecast/series?${query({ ...where, horizon })}`),
    api(`/api/forecast/backtest?${query(where)}`).catch((err) => ({ error: err.message })),
  ]);
  const unitName = `${name(hospital)}${department ? ` · ${t(`dept.${department}`)}` : ""}`;
  main.querySelector("#fc-title").textContent = `${unitName} · ${t("forecast.title")}`;
  main.querySelector("#fc-model").textContent = fill(t("forecast.model_note"), {
    model: series.model, last: date(series.last_census), beds: num(series.open_beds),
  });
  drawForecast(main.querySelector("#fc-chart"), series);
  showBacktest(main, backtest);
  main.querySelector("#fc-csv").addEventListener("click", () =>
    downloadCsv(`provista-forecast-${hospital.hospital_id}${department ? `-${department}` : ""}.csv`,
      ["date", "kind", "horizon", "occupied_beds", "lo80", "hi80", "lo95", "hi95"],
      [...series.history.map((p) => [p.date, p.filled ? "filled" : "census", "", p.occupied, "", "", "", ""]),
       ...series.forecast.map((p) => [p.date, "forecast", p.horizon, p.point, p.lo80, p.hi80, p.lo95, p.hi95])]));
}

function drawForecast(el, series) {
  const ahead = series.forecast;
  const at = (key) => ahead.map((p) => [p.date, p[key]]);
  const width = (lo, hi) => ahead.map((p) => [p.date, p[hi] - p[lo]]);
  const byDate = Object.fromEntries(ahead.map((p) => [p.date, p]));
  const known = Object.fromEntries(series.history.map((p) => [p.date, p]));
  const band = (label, lo, hi, opacity) => [
    { type: "line", name: `${label}-base`, stack: label, data: at(lo), symbol: "none", lineStyle: { opacity: 0 } },
    { type: "line", name: label, stack: label, data: width(lo, hi), symbol: "none", lineStyle: { opacity: 0 },
      areaStyle: { opacity, color: "#1f6feb" }, color: "#1f6feb" },
  ];
  const c = chart(el);
  c.setOption({
    toolbox: toolbox(),
    legend: { top: 0, data: [t("forecast.history"), t("forecast.forecast"), t("forecast.band80"), t("forecast.band95")] },
    grid: { left: 50, right: 30, top: 40, bottom: 70 },
    xAxis: { type: "time" },
    yAxis: { type: "value", name: t("forecast.beds"), min: 0, max: (v) => Math.ceil(Math.max(v.max, series.open_beds) * 1.08) },
    dataZoom: [{ type: "inside" }, { type: "slider" }],
    tooltip: {
      trigger: "axis",
      formatter: (items) => {
        const key = iso(new Date(items[0]?.axisValue));  // the axis holds local midnights
        const p = byDate[key];
        if (p) {
          return `${date(key)}<br>${t("forecast.forecast")}: ${num(p.point, 1)}<br>`
            + `${t("forecast.band80")}: ${num(p.lo80)}–${num(p.hi80)}<br>${t("forecast.band95")}: ${num(p.lo95)}–${num(p.hi95)}`;
        }
        const h = known[key];
        const said = h?.occupied == null ? t("forecast.no_census") : num(h.occupied, 1) + (h.filled ? ` (${t("forecast.filled")})` : "");
        return `${date(key)}<br>${t("forecast.history")}: ${said}`;
      },
    },
    series: [
      ...band(t("forecast.band95"), "lo95", "hi95", 0.12),
      ...band(t("forecast.band80"), "lo80", "hi80", 0.25),
      { type: "line", name: t("forecast.history"), color: "#24292f", connectNulls: false, symbolSize: 6,
        data: series.history.map((p) => ({ value: [p.date, p.occupied],
          symbol: p.filled ? "emptyCircle" : "none", itemStyle: { color: "#8c959f" } })),
        markLine: { symbol: "none", lineStyle: { type: "dashed", color: "#cf222e" },
          label: { formatter: `${t("forecast.open_beds")} ${num(series.open_beds)}`, position: "insideEndTop" },
          data: [{ yAxis: series.open_beds }] } },
      { type: "line", name: t("forecast.forecast"), data: at("point"), showSymbol: false, color: "#1f6feb",
        lineStyle: { type: "dashed", width: 2 } },
    ],
  });
}

function showBacktest(main, backtest) {
  const verdict = main.querySelector("#fc-verdict");
  if (backtest.error) {
    verdict.textContent = `${t("forecast.no_backtest")} ${backtest.error}`;
    return;
  }
  main.querySelector("#fc-origins").textContent = fill(t("forecast.origins"), {
    n: backtest.origins.length, first: date(backtest.origins[0]), last: date(backtest.origins.at(-1)),
    horizon: backtest.horizon,
  });
  const body = main.querySelector("#fc-table tbody");
  const mine = backtest.rows.filter((r) => r.model === backtest.model);
  for (const r of mine) {
    const tr = body.insertRow();
    tr.insertCell().textContent = r.bucket;
    const change = r.mae === r.baseline_mae ? t("forecast.tie") : r.baseline_mae > 0
      ? `${r.mae > r.baseline_mae ? "+" : ""}${num((r.mae / r.baseline_mae - 1) * 100, 0)}%` : "–";
    const cells = [num(r.mae, 3), num(r.baseline_mae, 3), change, pct(r.coverage80), pct(r.coverage95)];
    for (const text of cells) {
      const td = tr.insertCell();
      td.className = "num";
      td.textContent = text;
    }
    if (!(r.mae < r.baseline_mae)) tr.style.color = "var(--down)";
  }
  const losing = backtest.verdicts.filter((v) => !v.beats).map((v) => v.bucket);
  verdict.textContent = losing.length
    ? fill(t("forecast.loses"), { buckets: losing.join(", ") })
    : t("forecast.wins_all");
  if (losing.length) verdict.style.color = "var(--down)";
  const days = mine.reduce((s, r) => s + r.n, 0);
  const held = (key) => mine.reduce((s, r) => s + r[key] * r.n, 0) / Math.max(days, 1);
  main.querySelector("#fc-coverage").textContent = fill(t("forecast.coverage"), {
    c80: pct(held("coverage80")), c95: pct(held("coverage95")), days: num(days),
  });
}
