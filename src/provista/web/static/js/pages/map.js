// The map: province → city → county → hospitals, a metric picker, and a trend that follows the selection.
// Clicking a region or zooming the trend's period changes the URL, which redraws every chart on the page.
import { api, query } from "../api.js";
import { t, num, name } from "../i18n.js";
import { choropleth, lines, bars, downloadCsv } from "../charts.js";
import { navigate } from "../app.js";

const METRICS = ["visits_per_10k", "admissions", "bed_occupancy", "incidence"];

export async function render(main, params) {
  const metric = params.metric || "visits_per_10k";
  const city = params.city || null;
  const county = params.county || null;
  main.innerHTML = `
    <div class="toolbar">
      <span class="crumbs" id="crumbs"></span>
      <label>${t("map.metric")} <select id="metric"></select></label>
      <button id="csv" type="button">${t("common.csv")}</button>
      <button id="png" type="button">${t("common.png")}</button>
    </div>
    <div class="two"><div class="card"><div class="chart tall" id="map"></div></div>
      <div class="card"><div class="chart" id="rank"></div></div></div>
    <div class="card" style="margin-top:1rem"><div class="chart" id="trend"></div></div>`;
  const select = main.querySelector("#metric");
  for (const m of METRICS) select.add(new Option(t(`metric.${m}`), m, false, m === metric));
  select.addEventListener("change", () => navigate({ metric: select.value }));

  const crumbs = main.querySelector("#crumbs");
  const crumb = (label, patch) => {
    const a = document.createElement("a");
    a.textContent = label;
    a.addEventListener("click", () => navigate(patch));
    crumbs.append(a, document.createTextNode(" › "));
  };
  crumb(t("map.province"), { city: null, county: null });

  const level = city ? "county" : "city";
  const period = { from: params.from, to: params.to };
  const [geo, values] = await Promise.all([
    api(`/api/map/boundaries?${query({ level, parent: city })}`),
    api(`/api/map/metric?${query({ metric, level, parent: city, ...period })}`),
  ]);
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

  const region = county || city;
  const trend = await api(`/api/trends/visits?${query({ region, by: "type", grain: "week" })}`);
  const series = trend.series.map((s) => ({ ...s, name: t(`type.${s.name}`) }));
  const trendChart = lines(main.querySelector("#trend"), series);
  trendChart.on("datazoom", () => {
    const axis = trendChart.getModel().getComponent("xAxis", 0).axis.scale.getExtent();
    const iso = (ms) => new Date(ms).toISOString().slice(0, 10);
    clearTimeout(render.zoomTimer);
    render.zoomTimer = setTimeout(() => navigate({ from: iso(axis[0]), to: iso(axis[1]) }), 600);
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
