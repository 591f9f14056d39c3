// The map: province → city → county → hospitals, a metric picker, a month slider that can play, and a
// trend (split and filtered as on the trends page) that follows the selection. Clicking a region, moving
// the slider or zooming the trend's period changes the URL, which redraws every chart on the page.
import { api, query } from "../api.js";
import { t, num, name } from "../i18n.js";
import { choropleth, lines, bars, downloadCsv } from "../charts.js";
import { navigate, route } from "../app.js";
import { label as seriesLabel, select } from "./trends.js";

const METRICS = ["visits_per_10k", "admissions", "bed_occupancy", "incidence"];
let playing = null;

const monthRange = (month) => {
  const [y, m] = month.split("-").map(Number);
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return { from: `${month}-01`, to: `${month}-${String(last).padStart(2, "0")}` };
};

function monthsOf(series) {
  const days = series.flatMap((s) => s.points.map((p) => String(p[0]).slice(0, 7))).sort();
  if (!days.length) return [];
  const out = [];
  let [y, m] = days[0].split("-").map(Number);
  const [ly, lm] = days[days.length - 1].split("-").map(Number);
  while (y < ly || (y === ly && m <= lm)) {
    out.push(`${y}-${String(m).padStart(2, "0")}`);
    [y, m] = m === 12 ? [y + 1, 1] : [y, m + 1];
  }
  return out;
}

export async function render(main, params) {
  clearInterval(playing);
  const metric = params.metric || "visits_per_10k";
  const by = params.by || "type";
  const city = params.city || null;
  const county = params.county || null;
  main.innerHTML = `
    <div class="toolbar">
      <span class="crumbs" id="crumbs"></span>
      <label>${t("map.metric")} <select id="metric"></select></label>
      <label>${t("trends.by")} <select id="by"></select></label>
      <label>${t("trends.level")} <select id="level"></select></label>
      <button id="csv" type="button">${t("common.csv")}</button>
      <button id="png" type="button">${t("common.png")}</button>
    </div>
    <div class="two"><div class="card"><div class="chart tall" id="map"></div></div>
      <div class="card"><div class="chart" id="rank"></div></div></div>
    <div class="toolbar slider">
      <button id="play" type="button">${t("map.play")}</button>
      <input id="month" type="range" min="0" max="0" step="1" aria-label="${t("map.month")}">
      <output id="month-label"></output>
      <button id="whole" type="button">${t("map.all_period")}</button>
    </div>
    <div class="card" style="margin-top:1rem"><div class="chart" id="trend"></div></div>`;
  const picker = main.querySelector("#metric");
  for (const m of METRICS) picker.add(new Option(t(`metric.${m}`), m, false, m === metric));
  picker.addEventListener("change", () => navigate({ metric: picker.value }));

  const crumbs = main.querySelector("#crumbs");
  const crumb = (label, patch) => {
    const a = document.createElement("a");
    a.textContent = label;
    a.addEventListener("click", () => navigate(patch));
    crumbs.append(a, document.createTextNode(" › "));
  };
  crumb(t("map.province"), { city: null, county: null });

  const level = city ? "county" : "city";
  const region = county || city;
  const period = params.month ? monthRange(params.month) : { from: params.from, to: params.to };
  const metricUrl = (p) => `/api/map/metric?${query({ metric, level, parent: city, ...p })}`;
  const [geo, values, trend, facets] = await Promise.all([
    api(`/api/map/boundaries?${query({ level, parent: city })}`),
    api(metricUrl(period)),
    api(`/api/trends/visits?${query({ region, by, grain: "week", level: params.level })}`),
    api("/api/trends/facets"),
  ]);
  select(main.querySelector("#by"), ["type", "level", "department"], by, (b) => t(`by.${b}`),
    (v) => navigate({ by: v }), false);
  select(main.querySelector("#level"), facets.levels, params.level, (v) => seriesLabel("level", v),
    (v) => navigate({ level: v }));
  const labelled = values.map((v) => ({ ...v, label: name(v) }));
  if (city) crumb(name(values.find((v) => v.code.startsWith(city.slice(0, 4))) || { name_zh: city, name_en: city }), { county: null });
  const mapChart = choropleth(main.querySelector("#map"), `provista-${level}-${city || "33"}`, geo, labelled, t(`metric.${metric}`));
  mapChart.on("click", (p) => {
    if (!p.name) return;
    if (level === "city") navigate({ city: p.name, county: null });
    else navigate({ county: p.name });
  });
  const fmt = metric === "bed_occupancy" ? (v) => (v == null ? null : v * 100) : (v) => v;
  const sorted = [...labelled].sort((a, b) => (b.value ?? -1) - (a.value ?? -1));
  bars(main.querySelector("#rank"), sorted.map((v) => v.label), sorted.map((v) => fmt(v.value)), t(`metric.${metric}`));

  const series = trend.series.map((s) => ({ ...s, name: seriesLabel(by, s.name) }));
  const trendChart = lines(main.querySelector("#trend"), series);
  trendChart.on("datazoom", () => {
    const axis = trendChart.getModel().getComponent("xAxis", 0).axis.scale.getExtent();
    const iso = (ms) => new Date(ms).toISOString().slice(0, 10);
    clearTimeout(render.zoomTimer);
    render.zoomTimer = setTimeout(() => navigate({ from: iso(axis[0]), to: iso(axis[1]), month: null }), 600);
  });
  timeSlider(main, monthsOf(trend.series), params.month, (month) => api(metricUrl(monthRange(month))),
    (shown, max) => {
      if (mapChart.isDisposed()) return;
      mapChart.setOption({
        visualMap: { min: 0, max },
        series: [{ data: shown.map((v) => ({ name: v.code, value: v.value, label: name(v) })) }],
      });
    });

  if (county) {
    const hospitals = await api(`/api/map/hospitals?${query({ county })}`);
    crumb(name(values.find((v) => v.code === county) || { name_zh: county, name_en: county }), {});
    mapChart.setOption({
      geo: { map: `provista-${level}-${city || "33"}`, roam: true, show: false },
      series: [mapChart.getOption().series[0], {
        type: "scatter", coordinateSystem: "geo", name: t("map.hospitals"),
        symbolSize: (v) => 6 + Math.sqrt(v[2]) / 10,
        data: hospitals.map((h) => ({ name: name(h), value: [h.lon, h.lat, h.visits] })),
        tooltip: { formatter: (p) => `${p.name}<br>${t("common.visits")}: ${num(p.value[2])}` },
      }],
    });
  }
  main.querySelector("#png").addEventListener("click", () => {
    const a = document.createElement("a");
    a.href = mapChart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#fff" });
    a.download = `provista-map-${metric}-${region || "33"}.png`;
    a.click();
  });
  main.querySelector("#csv").addEventListener("click", () =>
    downloadCsv(`provista-${metric}-${level}.csv`, ["code", "name", metric, "numerator", "denominator"],
      values.map((v) => [v.code, name(v), v.value, v.numerator, v.denominator])));
}

// The month slider: moving it shows that month (in the URL). Play loads every month first, so that all
// frames share one colour scale, then steps month by month in place; the month it stops on goes into
// the URL (without a redraw).
function timeSlider(main, months, current, load, draw) {
  const range = main.querySelector("#month");
  const out = main.querySelector("#month-label");
  const play = main.querySelector("#play");
  range.max = String(Math.max(0, months.length - 1));
  range.value = String(Math.max(0, months.indexOf(current)));
  out.textContent = current || t("map.all_period");
  range.addEventListener("change", () => navigate({ month: months[Number(range.value)], from: null, to: null }));
  range.addEventListener("input", () => { out.textContent = months[Number(range.value)]; });
  main.querySelector("#whole").addEventListener("click", () => navigate({ month: null, from: null, to: null }));
  const stop = () => {
    clearInterval(playing);
    playing = null;
    play.textContent = t("map.play");
    const { page, params } = route();
    params.month = months[Number(range.value)];
    delete params.from;
    delete params.to;
    history.replaceState(null, "", `#/${page}?${new URLSearchParams(params)}`);
  };
  play.addEventListener("click", async () => {
    if (playing) return stop();
    if (!months.length) return;
    play.textContent = t("map.pause");
    play.disabled = true;
    const frames = await Promise.all(months.map(load));
    play.disabled = false;
    const max = Math.max(1, ...frames.flat().map((v) => v.value ?? 0));
    let i = Number(range.value) >= months.length - 1 ? 0 : Number(range.value);
    const step = () => {
      if (!main.isConnected) return clearInterval(playing);
      range.value = String(i);
      out.textContent = months[i];
      draw(frames[i], max);
      if (i >= months.length - 1) return stop();
      i += 1;
    };
    playing = setInterval(step, 1000);
    step();
  });
}
