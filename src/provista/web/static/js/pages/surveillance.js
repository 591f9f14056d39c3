// Public-health surveillance: weekly incidence on the county map with a slider that plays the weeks, the
// epidemic curve, disease × week heat map, patient flows (Sankey), space-time clusters on the map with
// their p-values, the latest outbreak signals (linking to the alert inbox) and transfer recommendations.
// Disease, model and period live in the URL; clicking a county narrows the curve to it.
import { api, query } from "../api.js";
import { t, num, name, lang } from "../i18n.js";
import { chart, choropleth, heat, downloadCsv } from "../charts.js";
import { navigate, route } from "../app.js";

let playing = null;

const el = (tag, text, cls) => {
  const e = document.createElement(tag);
  if (text != null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
};
const pValue = (p) => (p == null ? "–" : p < 0.001 ? "<0.001" : p.toFixed(3));

// The counties in scope, from the map page's boundary endpoint (one city at a time), as one collection.
async function countyGeo(counties) {
  const cities = [...new Set(counties.map((c) => `${c.code.slice(0, 4)}00`))].sort();
  const parts = await Promise.all(cities.map((c) => api(`/api/map/boundaries?${query({ level: "county", parent: c })}`)));
  return { key: `provista-surv-${cities.length > 3 ? "33" : cities.join("-")}`, geo: { type: "FeatureCollection", features: parts.flatMap((p) => p.features) } };
}

export async function render(main, params, me) {
  clearInterval(playing);
  playing = null;
  const staff = me && me.role !== "public";
  main.innerHTML = `
    <div class="toolbar">
      <label>${t("surv.disease")} <select id="surv-disease"></select></label>
      <label>${t("surv.model")} <select id="surv-model"></select></label>
      <label>${t("surv.interval")} <select id="surv-interval"></select></label>
      <span class="crumbs" id="surv-county"></span>
      <button id="surv-csv" type="button">${t("common.csv")}</button>
    </div>
    <div class="two">
      <div class="card"><h3>${t("surv.map_title")}</h3><div class="chart tall" id="surv-map"></div>
        <div class="toolbar slider">
          <button id="surv-play" type="button">${t("surv.play")}</button>
          <input id="surv-week" type="range" min="0" max="0" step="1" aria-label="${t("surv.week")}">
          <output id="surv-week-label"></output>
        </div></div>
      <div class="card"><h3 id="surv-curve-title"></h3><div class="chart" id="surv-curve"></div></div>
    </div>
    <div class="two" style="margin-top:1rem">
      <div class="card"><h3>${t("surv.clusters_title")}</h3><div class="chart tall" id="surv-clusters-map"></div></div>
      <div class="card"><p class="muted" id="surv-clusters-note">${t("surv.scanning")}</p><div id="surv-clusters"></div></div>
    </div>
    <div class="two" style="margin-top:1rem">
      <div class="card"><h3>${t("surv.heat_title")}</h3><div class="chart tall" id="surv-heat"></div></div>
      <div class="card"><h3>${t("surv.flows_title")}</h3>
        <div class="toolbar"><label>${t("surv.flows_level")} <select id="surv-flow-level"></select></label></div>
        <div class="chart" id="surv-flows"></div><p class="muted" id="surv-flows-note"></p></div>
    </div>
    ${staff ? `<div class="two" style="margin-top:1rem" id="surv-staff">
      <div class="card"><h3>${t("surv.transfers_title")}</h3><p id="surv-transfers-note"></p><div id="surv-transfers"></div></div>
      <div class="card"><h3>${t("surv.alerts_title")}</h3><div id="surv-alerts"></div></div>
    </div>` : ""}`;

  const diseases = await api("/api/surveillance/diseases");
  const disease = params.disease || diseases[0]?.disease || null;
  const diseaseName = (d) => (lang === "en" ? diseases.find((x) => x.disease === d)?.name_en ?? d : d);
  const pick = (id, values, current, label, key) => {
    const s = main.querySelector(id);
    for (const v of values) s.add(new Option(label(v), v, false, v === current));
    s.addEventListener("change", () => navigate({ [key]: s.value }));
  };
  pick("#surv-disease", diseases.map((d) => d.disease), disease, diseaseName, "disease");
  const model = params.model || "permutation";
  pick("#surv-model", ["permutation", "poisson"], model, (m) => t(`surv.model_${m}`), "model");
  // The public role gets daily curves for the province only (a county's days are not published).
  const interval = !staff && params.county ? "week" : params.interval || "week";
  pick("#surv-interval", interval === "week" && !staff && params.county ? ["week"] : ["week", "day"], interval,
    (i) => t(`surv.by_${i}`), "interval");
  const level = params.flows || "city";
  pick("#surv-flow-level", ["city", "county"], level, (l) => t(`surv.level_${l}`), "flows");

  const period = { from: params.from, to: params.to };
  const county = params.county || null;
  const [inc, curve, heatData, flows] = await Promise.all([
    api(`/api/surveillance/incidence?${query({ disease, ...period })}`),
    api(`/api/surveillance/curve?${query({ disease, interval, region: county, ...period })}`),
    api(`/api/surveillance/heatmap?${query({ region: county, ...period })}`),
    api(`/api/surveillance/flows?${query({ level, ...period })}`),
  ]);
  const countyName = (code) => { const c = inc.counties.find((x) => x.code === code); return c ? name(c) : code; };
  if (county) {
    const crumbs = main.querySelector("#surv-county");
    const a = el("a", `${countyName(county)} ✕`);
    a.addEventListener("click", () => navigate({ county: null }));
    crumbs.append(a);
  }
  main.querySelector("#surv-curve-title").textContent =
    `${t("surv.curve_title")} · ${diseaseName(disease)}${county ? ` · ${countyName(county)}` : ""}`;

  // The epidemic map: one frame per week, all on the scale of the highest weekly rate.
  const { key, geo } = await countyGeo(inc.counties);
  const weeks = inc.weeks;
  const frames = weeks.map(() => new Map());
  const totals = weeks.map(() => 0);
  for (const [ci, wi, n, rate] of inc.cells) { frames[wi].set(ci, { n, rate }); totals[wi] += n ?? 0; }
  const frame = (w) => inc.counties.map((c, i) => {
    const cell = frames[w].get(i);
    return { code: c.code, label: name(c), value: cell ? cell.rate : 0, cases: cell ? cell.n : 0 };
  });
  const week0 = Math.max(0, weeks.indexOf(params.week) >= 0 ? weeks.indexOf(params.week) : weeks.length - 1);
  const mapChart = choropleth(main.querySelector("#surv-map"), key, geo, frame(week0), t("surv.incidence"));
  const small = inc.counties.length <= 20;
  const asData = (rows) => rows.map((v) => ({ name: v.code, value: v.value, label: v.label, cases: v.cases }));
  mapChart.setOption({
    tooltip: { formatter: (p) => `${p.data?.label ?? p.name}<br>${t("surv.incidence")}: ${num(p.value, 2)}<br>${t("surv.cases")}: ${num(p.data?.cases)}` },
    visualMap: { min: 0, max: Math.max(inc.max_rate, 0.01), text: [t("surv.per_100k"), ""] },
    series: [{ label: { show: small }, data: asData(frame(week0)) }],
  });
  mapChart.on("click", (p) => p.name && navigate({ county: p.name }));

  // The epidemic curve (bars by onset), with the week the map shows marked.
  const curveChart = chart(main.querySelector("#surv-curve"));
  curveChart.setOption({
    tooltip: { trigger: "axis", valueFormatter: (v) => num(v) },
    grid: { left: 50, right: 20, top: 20, bottom: 60 },
    xAxis: { type: "category", data: curve.points.map((p) => p[0]) },
    yAxis: { type: "value", name: t("surv.cases") },
    dataZoom: [{ type: "inside" }, { type: "slider" }],
    series: [{ type: "bar", name: t("surv.cases"), data: curve.points.map((p) => p[1]), barCategoryGap: "5%" }],
  });

  const range = main.querySelector("#surv-week");
  const out = main.querySelector("#surv-week-label");
  const play = main.querySelector("#surv-play");
  range.max = String(Math.max(0, weeks.length - 1));
  const show = (w) => {
    range.value = String(w);
    out.textContent = `${weeks[w] ?? "–"} · ${t("surv.cases")} ${num(totals[w])}`;
    if (mapChart.isDisposed()) return;
    mapChart.setOption({ series: [{ data: asData(frame(w)) }] });
    if (interval === "week" && !curveChart.isDisposed()) {
      curveChart.setOption({ series: [{ markLine: { symbol: "none", silent: true, data: [{ xAxis: weeks[w] }] } }] });
    }
  };
  const keep = () => {  // the week shown goes into the URL without redrawing the page
    const { page, params: now } = route();
    history.replaceState(null, "", `#/${page}?${new URLSearchParams({ ...now, week: weeks[Number(range.value)] })}`);
  };
  const stop = () => { clearInterval(playing); playing = null; play.textContent = t("surv.play"); keep(); };
  range.addEventListener("input", () => show(Number(range.value)));
  range.addEventListener("change", keep);
  play.addEventListener("click", () => {
    if (playing) return stop();
    if (Number(range.value) >= weeks.length - 1) show(0);
    play.textContent = t("surv.pause");
    playing = setInterval(() => {
      if (!main.isConnected) { clearInterval(playing); playing = null; return; }
      const next = Number(range.value) + 1;
      if (next >= weeks.length) return stop();
      show(next);
    }, 700);
  });
  show(week0);

  heat(main.querySelector("#surv-heat"), heatData, diseaseName);
  drawFlows(main, flows, level);

  main.querySelector("#surv-csv").addEventListener("click", () =>
    downloadCsv(`provista-incidence-${disease ?? "all"}.csv`, ["county", "name", "week", "cases", "per_100k"],
      inc.cells.map(([ci, wi, n, rate]) => [inc.counties[ci].code, name(inc.counties[ci]), weeks[wi], n, rate])));

  // Slower parts fill in when they arrive; the page is usable meanwhile.
  drawClusters(main, { disease, model, ...period }, key, geo, countyName, (start) => {
    const i = weeks.indexOf(start);
    if (i >= 0) { show(i); keep(); }
  });
  if (staff) {
    drawTransfers(main, disease);
    drawAlerts(main, disease, countyName);
  }
}

function drawFlows(main, flows, level) {
  const own = flows.filter((f) => f.source === f.target).reduce((s, f) => s + (f.visits ?? 0), 0);
  const all = flows.reduce((s, f) => s + (f.visits ?? 0), 0);
  const cross = flows.filter((f) => f.source !== f.target && f.visits != null).slice(0, level === "city" ? 60 : 40);
  const label = {};
  for (const f of cross) {
    label[`r${f.source}`] = `${lang === "en" ? f.source_en : f.source_zh} ${t("surv.residents")}`;
    label[`h${f.target}`] = `${lang === "en" ? f.target_en : f.target_zh} ${t("surv.hospitals")}`;
  }
  const c = chart(main.querySelector("#surv-flows"));
  c.setOption({
    tooltip: { formatter: (p) => (p.dataType === "edge" ? `${label[p.data.source]} → ${label[p.data.target]}: ${num(p.data.value)}` : label[p.name]) },
    series: [{
      type: "sankey", emphasis: { focus: "adjacency" }, nodeGap: 6, left: 10, right: 120,
      data: Object.keys(label).map((n) => ({ name: n })),
      links: cross.map((f) => ({ source: `r${f.source}`, target: `h${f.target}`, value: f.visits })),
      label: { formatter: (p) => label[p.name] }, lineStyle: { color: "gradient", opacity: 0.4 },
    }],
  });
  main.querySelector("#surv-flows-note").textContent =
    `${t("surv.own_area")}: ${num(own)} / ${num(all)} (${all ? Math.round((own / all) * 100) : 0}%)`;
}

async function drawClusters(main, params, key, geo, countyName, goTo) {
  const note = main.querySelector("#surv-clusters-note");
  let scan;
  try {
    scan = await api(`/api/surveillance/clusters?${query(params)}`);
  } catch (err) {
    if (note.isConnected) note.textContent = t("common.error") + err.message;
    return;
  }
  if (!note.isConnected) return;
  note.textContent = t("surv.scan_note").replace("{model}", t(`surv.model_${scan.model}`))
    .replace("{from}", scan.start).replace("{to}", scan.end).replace("{n}", num(scan.replicas));
  const shown = scan.clusters.slice(0, 5);
  const colour = (c) => (c.p_value < 0.05 ? "#cf222e" : "#d4a72c");
  const regions = [];
  for (const c of [...shown].reverse()) {
    for (const m of c.counties) regions.push({ name: m.code, itemStyle: { areaColor: colour(c), opacity: c.p_value < 0.05 ? 0.8 : 0.45 } });
  }
  const map = chart(main.querySelector("#surv-clusters-map"));
  map.setOption({
    tooltip: { trigger: "item", formatter: (p) => (p.data?.cluster ? clusterText(p.data.cluster) : "") },
    geo: { map: key, roam: true, nameProperty: "adcode", itemStyle: { areaColor: "#eef2f6", borderColor: "#9aa4af" }, regions },
    series: [{
      type: "scatter", coordinateSystem: "geo", name: t("surv.clusters_title"),
      data: shown.map((c) => ({ name: `#${c.rank}`, value: [c.lon, c.lat], symbolSize: 14 + c.radius_km / 3,
        itemStyle: { color: colour(c), opacity: 0.35, borderColor: colour(c), borderWidth: 2 }, cluster: c })),
      label: { show: true, formatter: (p) => `#${p.data.cluster.rank} p=${pValue(p.data.cluster.p_value)}`, position: "top" },
    }],
  });
  const table = el("table");
  const head = el("tr");
  for (const h of ["#", t("surv.counties"), t("surv.period"), t("surv.observed"), t("surv.expected"), t("surv.rr"), t("surv.p_value")]) head.append(el("th", h));
  table.append(head);
  for (const c of scan.clusters) {
    const tr = el("tr", null, "alerts-row");
    const names = c.counties.map((m) => name(m));
    tr.append(el("td", String(c.rank)), el("td", names.length > 4 ? `${names.slice(0, 4).join("、")} … (+${names.length - 4})` : names.join("、")),
      el("td", `${c.start} – ${c.end}`), el("td", num(c.observed), "num"), el("td", num(c.expected, 1), "num"),
      el("td", num(c.relative_risk, 2), "num"), el("td", pValue(c.p_value), `num${c.p_value < 0.05 ? " significant" : ""}`));
    tr.title = t("surv.goto_week");
    tr.addEventListener("click", () => goTo(c.start));
    table.append(tr);
  }
  main.querySelector("#surv-clusters").replaceChildren(table);

  function clusterText(c) {
    const list = c.counties.map((m) => countyName(m.code)).join("、");
    return `#${c.rank} ${c.start} – ${c.end}<br>${list}<br>${t("surv.observed")} ${num(c.observed)} / ${t("surv.expected")} ${num(c.expected, 1)}<br>p = ${pValue(c.p_value)}`;
  }
}

async function drawTransfers(main, disease) {
  const note = main.querySelector("#surv-transfers-note");
  let plan;
  try {
    plan = await api(`/api/surveillance/transfers?${query({ disease })}`);
  } catch (err) {
    if (note.isConnected) note.textContent = t("common.error") + err.message;
    return;
  }
  if (!note.isConnected) return;
  const moved = plan.moves.reduce((s, m) => s + m.patients, 0);
  note.textContent = plan.moves.length
    ? t("surv.transfers_some").replace("{n}", num(moved)).replace("{k}", num(plan.moves.length)).replace("{u}", num(plan.unmet))
    : plan.unmet ? t("surv.transfers_stuck").replace("{u}", num(plan.unmet)) : t("surv.transfers_none");
  const cityName = Object.fromEntries(plan.cities.map((c) => [c.city, name(c)]));
  const table = el("table");
  const head = el("tr");
  for (const h of [t("surv.from"), t("surv.to"), t("surv.kind"), t("surv.patients"), t("surv.km"), t("surv.reason")]) head.append(el("th", h));
  table.append(head);
  for (const m of plan.moves) {
    const tr = el("tr");
    tr.append(el("td", cityName[m.from_city] ?? m.from_city), el("td", cityName[m.to_city] ?? m.to_city),
      el("td", t(`surv.kind_${m.kind}`)), el("td", num(m.patients), "num"), el("td", num(m.distance_km), "num"),
      el("td", lang === "en" ? m.reason_en : m.reason_zh));
    table.append(tr);
  }
  const balance = el("table");
  const bh = el("tr");
  for (const h of [t("surv.city"), t("surv.demand"), t("surv.free"), t("surv.short")]) bh.append(el("th", h));
  balance.append(bh);
  const res = (o) => Object.entries(o).filter(([, v]) => v > 0).map(([k, v]) => `${t(`surv.res_${k}`)} ${num(v, 1)}`).join("、") || "–";
  const kinds = (o) => Object.entries(o).filter(([, v]) => v > 0).map(([k, v]) => `${t(`surv.kind_${k}`)} ${num(v)}`).join("、") || "–";
  for (const c of plan.cities) {
    const tr = el("tr");
    tr.append(el("td", name(c)), el("td", kinds(c.demand)), el("td", res(c.free)), el("td", res(c.short)));
    balance.append(tr);
  }
  main.querySelector("#surv-transfers").replaceChildren(...(plan.moves.length ? [table] : []), el("h4", t("surv.balance")), balance);
}

async function drawAlerts(main, disease, countyName) {
  const box = main.querySelector("#surv-alerts");
  let page;
  try {
    page = await api(`/api/alerts?${query({ source: "surveillance", disease, page_size: 8 })}`);
  } catch {
    if (box.isConnected) box.closest(".card").hidden = true;  // no inbox for this user or warehouse
    return;
  }
  if (!box.isConnected) return;
  if (!page.items.length) return box.replaceChildren(el("p", t("surv.no_alerts"), "muted"));
  const list = el("ul");
  for (const a of page.items) {
    const li = el("li");
    const link = el("a", `${countyName(a.county_code)} · ${a.rule} · ${a.period_start}`);
    link.href = `#/alerts?alert=${encodeURIComponent(a.alert_id)}`;
    li.append(link, el("span", ` ${t("surv.observed")} ${num(a.observed)} / ${t("surv.threshold")} ${num(a.threshold, 1)}`, "muted"));
    list.append(li);
  }
  box.replaceChildren(list);
}
