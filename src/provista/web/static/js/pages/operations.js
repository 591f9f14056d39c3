// Hospital operations: the chosen hospital's indicators, its rank among the hospitals of its level, an
// indicator's monthly trend inside its peers' quartile band, bed occupancy by department × day, equipment
// use by device and the operating rooms' day as a Gantt chart. Indicator names, units and the better
// direction come from the API's definitions (indicators.yaml), the rest of the labels from i18n ("ops").
import { api, query } from "../api.js";
import { t, num, name, lang } from "../i18n.js";
import { chart, heat, downloadCsv } from "../charts.js";
import { navigate } from "../app.js";

const LEVELS = ["tertiary", "secondary", "primary"];
const toolbox = () => ({ feature: { saveAsImage: { title: t("common.png"), pixelRatio: 2 } } });
const title = (d) => (lang === "en" ? d.name_en : d.name_zh);
const unit = (d) => t(`ops.unit.${d.unit}`);
const fmt = (v, d) => (v == null ? "–" : `${num(v, 2)}${d.unit === "percent" ? "%" : ""}`);

export async function render(main, params) {
  const [defs, hospitals] = await Promise.all([api("/api/operations/definitions"), api("/api/operations/hospitals")]);
  if (!hospitals.length) {
    main.innerHTML = `<p class="muted">${t("ops.no_hospital")}</p>`;
    return;
  }
  const indicator = defs.indicators.find((d) => d.id === params.indicator) || defs.indicators[0];
  const hospital = hospitals.find((h) => h.hospital_id === params.hospital) || hospitals[0];
  const level = params.level || hospital.level_en || "tertiary";
  const period = { from: params.from, to: params.to };
  main.innerHTML = `
    <div class="toolbar">
      <label>${t("ops.indicator")} <select id="ops-indicator"></select></label>
      <label>${t("ops.level")} <select id="ops-level"></select></label>
      <label>${t("ops.hospital")} <select id="ops-hospital"></select></label>
      <label>${t("ops.from")} <input id="ops-from" type="date"></label>
      <label>${t("ops.to")} <input id="ops-to" type="date"></label>
      <button id="ops-csv" type="button">${t("common.csv")}</button>
    </div>
    <div class="two">
      <div class="card"><h3 id="ops-rank-title"></h3><div class="chart" id="ops-rank"></div></div>
      <div class="card"><h3>${t("ops.indicators")}</h3><table id="ops-table"><thead><tr>
        <th>${t("ops.indicator")}</th><th class="num">${t("ops.value")}</th>
        <th class="num">${t("ops.numerator")}</th><th class="num">${t("ops.denominator")}</th></tr></thead>
        <tbody></tbody></table></div>
    </div>
    <div class="card" style="margin-top:1rem"><h3 id="ops-trend-title"></h3><div class="chart" id="ops-trend"></div></div>
    <div class="card" style="margin-top:1rem"><h3>${t("ops.occupancy")}</h3><div class="chart tall" id="ops-heat"></div></div>
    <div class="two" style="margin-top:1rem">
      <div class="card"><h3>${t("ops.equipment")}</h3><div class="chart" id="ops-equipment"></div></div>
      <div class="card"><h3 id="ops-gantt-title"></h3><div class="chart" id="ops-gantt"></div></div>
    </div>`;
  const pick = (id, values, current, text, key) => {
    const el = main.querySelector(id);
    for (const v of values) el.add(new Option(text(v), v, false, v === current));
    el.addEventListener("change", () => navigate({ [key]: el.value }));
  };
  pick("#ops-indicator", defs.indicators.map((d) => d.id), indicator.id,
    (id) => title(defs.indicators.find((d) => d.id === id)), "indicator");
  pick("#ops-level", LEVELS, level, (v) => t(`level.${v}`), "level");
  pick("#ops-hospital", hospitals.map((h) => h.hospital_id), hospital.hospital_id,
    (id) => name(hospitals.find((h) => h.hospital_id === id)), "hospital");
  for (const key of ["from", "to"]) {
    const el = main.querySelector(`#ops-${key}`);
    el.value = params[key] || "";
    el.addEventListener("change", () => navigate({ [key]: el.value || null }));
  }

  const hid = hospital.hospital_id;
  const [ranking, trend, table, occupancy, equipment, theatre] = await Promise.all([
    api(`/api/operations/ranking?${query({ indicator: indicator.id, level, ...period })}`),
    api(`/api/operations/trend?${query({ indicator: indicator.id, hospital: hid, ...period })}`),
    api(`/api/operations/indicators?${query({ by: "hospital", ...period })}`),
    api(`/api/operations/occupancy?${query({ hospital: hid, from: params.from, to: params.to })}`),
    api(`/api/operations/equipment?${query({ hospital: hid, from: params.from, to: params.to })}`),
    api(`/api/operations/theatre?${query({ hospital: hid, day: params.day })}`),
  ]);
  drawRanking(main, indicator, ranking, hid);
  drawTable(main, defs, table.rows.find((r) => r.hospital_id === hid));
  drawTrend(main, indicator, trend);
  heat(main.querySelector("#ops-heat"), {
    rows: occupancy.rows, columns: occupancy.columns,
    cells: occupancy.cells.map(([c, r, v]) => [c, r, v == null ? "-" : Math.round(v * 10) / 10]),
  }, (code) => t(`dept.${code}`));
  drawEquipment(main, equipment);
  drawGantt(main, theatre);
  main.querySelector("#ops-csv").addEventListener("click", () =>
    downloadCsv(`provista-ranking-${indicator.id}-${level}.csv`,
      ["hospital_id", "name", indicator.id, indicator.numerator, indicator.denominator, "rank", "peers"],
      ranking.rows.map((r) => [r.hospital_id, name(r), r.value, r.numerator, r.denominator, r.rank, r.peers])));
}

function drawRanking(main, d, ranking, hid) {
  main.querySelector("#ops-rank-title").textContent =
    `${title(d)} · ${t("ops.ranking")} (${t(`level.${ranking.level_en}`)}, ${t("ops.peers")} ${ranking.band.peers})`;
  const rows = ranking.rows.filter((r) => r.value != null);
  const c = chart(main.querySelector("#ops-rank"));
  const band = ranking.band;
  c.setOption({
    tooltip: { trigger: "axis", valueFormatter: (v) => fmt(v, d) },
    toolbox: toolbox(),
    grid: { left: 150, right: 40, top: 20, bottom: 30 },
    xAxis: { type: "value", name: unit(d) },
    yAxis: { type: "category", inverse: true, axisLabel: { interval: 0 }, data: rows.map((r) => `${r.rank}. ${name(r)}`) },
    series: [{
      type: "bar", name: title(d),
      data: rows.map((r) => ({ value: r.value, itemStyle: r.hospital_id === hid ? { color: "#cf222e" } : undefined })),
      markLine: band.median == null ? undefined : { symbol: "none", data: [{ xAxis: band.median, name: t("ops.median") }],
        label: { formatter: t("ops.median") } },
      markArea: band.q1 == null ? undefined : { itemStyle: { opacity: 0.12 },
        data: [[{ xAxis: band.q1, name: t("ops.iqr") }, { xAxis: band.q3 }]] },
    }],
  });
}

function drawTable(main, defs, row) {
  const body = main.querySelector("#ops-table tbody");
  for (const d of defs.indicators) {
    const tr = body.insertRow();
    tr.dataset.indicator = d.id;
    tr.title = lang === "en" ? d.formula_en : d.formula_zh;
    tr.insertCell().textContent = `${title(d)} (${unit(d)})`;
    const cells = [fmt(row?.values[d.id], d), num(row?.measures[d.numerator], 1), num(row?.measures[d.denominator], 1)];
    for (const text of cells) {
      const td = tr.insertCell();
      td.className = "num";
      td.textContent = text;
    }
  }
}

function drawTrend(main, d, trend) {
  main.querySelector("#ops-trend-title").textContent = `${title(d)} · ${name(trend)} · ${t("ops.trend")}`;
  const months = trend.points.map((p) => p.month);
  const c = chart(main.querySelector("#ops-trend"));
  c.setOption({
    tooltip: { trigger: "axis", valueFormatter: (v) => fmt(v, d) },
    legend: { top: 0, data: [name(trend), t("ops.median"), t("ops.iqr")] },
    toolbox: toolbox(),
    grid: { left: 60, right: 20, top: 40, bottom: 30 },
    xAxis: { type: "category", data: months },
    yAxis: { type: "value", name: unit(d), scale: true },
    series: [
      { type: "line", name: "q1", stack: "band", data: trend.points.map((p) => p.q1), lineStyle: { opacity: 0 },
        symbol: "none", tooltip: { show: false } },
      { type: "line", name: t("ops.iqr"), stack: "band", symbol: "none", lineStyle: { opacity: 0 },
        areaStyle: { opacity: 0.2 }, data: trend.points.map((p) => (p.q3 == null || p.q1 == null ? null : p.q3 - p.q1)) },
      { type: "line", name: t("ops.median"), data: trend.points.map((p) => p.median), lineStyle: { type: "dashed" } },
      { type: "line", name: name(trend), data: trend.points.map((p) => p.value), lineStyle: { width: 3 } },
    ],
  });
}

function drawEquipment(main, devices) {
  const c = chart(main.querySelector("#ops-equipment"));
  c.setOption({
    tooltip: { trigger: "axis", valueFormatter: (v) => (v == null ? "–" : `${num(v, 1)}%`) },
    legend: { top: 0 },
    toolbox: toolbox(),
    grid: { left: 110, right: 20, top: 40, bottom: 30 },
    xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    yAxis: { type: "category", inverse: true, axisLabel: { interval: 0 }, data: devices.map((x) => x.device_id) },
    series: [
      { type: "bar", name: t("ops.utilisation"), data: devices.map((x) => x.utilisation) },
      { type: "bar", name: t("ops.positive_rate"), data: devices.map((x) => x.positive_rate) },
    ],
  });
}

function drawGantt(main, theatre) {
  const util = theatre.utilisation == null ? "–" : `${num(theatre.utilisation, 1)}%`;
  main.querySelector("#ops-gantt-title").textContent =
    `${t("ops.theatre")} · ${theatre.day || "–"} · ${t("ops.utilisation")} ${util}`;
  const rooms = theatre.rooms.map((r) => r.room);
  const day = theatre.day ? new Date(`${theatre.day}T00:00:00`).getTime() : 0;
  const hours = (ts) => (new Date(ts).getTime() - day) / 3600000;
  const c = chart(main.querySelector("#ops-gantt"));
  c.setOption({
    tooltip: { formatter: (p) => `${p.value[4]} (${t("ops.grade")} ${p.value[5] ?? "–"})<br>` +
      `${String(p.value[6]).slice(11, 16)}–${String(p.value[7]).slice(11, 16)}` },
    toolbox: toolbox(),
    grid: { left: 90, right: 20, top: 20, bottom: 40 },
    xAxis: { type: "value", min: 0, max: 24, interval: 2, name: t("ops.hour"), axisLabel: { formatter: (v) => `${v}:00` } },
    yAxis: { type: "category", data: rooms.map((r) => {
      const use = theatre.rooms.find((x) => x.room === r);
      return `${r} ${num(use.utilisation, 0)}%`;
    }) },
    series: [{
      type: "custom",
      renderItem: (params, api) => {
        const start = api.coord([api.value(1), api.value(0)]);
        const end = api.coord([api.value(2), api.value(0)]);
        const h = api.size([0, 1])[1] * 0.6;
        return { type: "rect", shape: { x: start[0], y: start[1] - h / 2, width: Math.max(1, end[0] - start[0]), height: h },
          style: api.style({ fill: ["#74add1", "#4575b4", "#f46d43", "#d73027"][Math.max(0, (api.value(5) || 1) - 1)] }) };
      },
      encode: { x: [1, 2], y: 0 },
      data: theatre.operations.map((op) => [rooms.indexOf(op.room), Math.max(0, hours(op.start_ts)),
        Math.min(24, hours(op.end_ts)), op.minutes, op.code, op.level, op.start_ts, op.end_ts]),
    }],
  });
}
