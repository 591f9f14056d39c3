// The alert inbox: every build's outbreak signals and operational alerts, newest first, filtered and paged;
// one alert's series with the detector's threshold, its status buttons (new → investigating → confirmed or
// dismissed), assignee, notes and history. Filters, page and the open alert (#/alerts?alert=<id>) live in
// the URL, so the surveillance page can link to one alert.
import { api, query } from "../api.js";
import { t, num, lang } from "../i18n.js";
import { chart, downloadCsv } from "../charts.js";
import { navigate } from "../app.js";

const PAGE = 25;
const EDITORS = ["admin", "analyst"];
const FILTERS = ["source", "status", "disease", "region", "severity", "from", "to"];
const toolbox = () => ({ feature: { saveAsImage: { title: t("common.png"), pixelRatio: 2 } } });

// A label from the "alerts" block, or the raw value where there is none (an operations rule id, say).
const label = (group, value) => {
  const key = `alerts.${group}.${value}`;
  const text = t(key);
  return text === key ? value : text;
};
const subject = (a) => (lang === "en" ? a.subject_en || label("subject", a.subject) : label("subject", a.subject));
const place = (a) => (lang === "en" ? a.hospital_name_en || a.county_name_en : a.hospital_name_zh || a.county_name_zh)
  || a.hospital_id || a.county_code || "–";
const detailText = (a) => (lang === "en" ? a.detail_en : a.detail_zh) || "";
const badge = (kind, value) => `<span class="badge ${kind}-${value}"></span>`;

export async function render(main, params, me) {
  const page = Number(params.page || 1);
  const filters = Object.fromEntries(FILTERS.map((k) => [k, params[k] || null]));
  const [facets, list] = await Promise.all([
    api("/api/alerts/facets"),
    api(`/api/alerts?${query({ ...filters, page, page_size: PAGE })}`),
  ]);
  main.innerHTML = `
    <div class="toolbar" id="alerts-filters">
      <label>${t("alerts.source_label")} <select data-key="source"></select></label>
      <label>${t("alerts.status_label")} <select data-key="status"></select></label>
      <label>${t("alerts.disease")} <select data-key="disease"></select></label>
      <label>${t("alerts.region")} <select data-key="region"></select></label>
      <label>${t("alerts.severity_label")} <select data-key="severity"></select></label>
      <label>${t("alerts.date_from")} <input type="date" data-key="from"></label>
      <label>${t("alerts.date_to")} <input type="date" data-key="to"></label>
      <button id="alerts-csv" type="button">${t("common.csv")}</button>
    </div>
    <div class="alerts-layout">
      <div class="card">
        <div class="toolbar"><strong>${t("alerts.title")}</strong><span class="spacer"></span>
          <button id="alerts-prev" type="button">${t("common.prev")}</button>
          <span id="alerts-count"></span>
          <button id="alerts-next" type="button">${t("common.next")}</button></div>
        <table id="alerts-table"><thead><tr>
          <th>${t("alerts.period")}</th><th>${t("alerts.severity_label")}</th><th>${t("alerts.method_label")}</th>
          <th>${t("alerts.region")}</th><th>${t("alerts.subject_label")}</th>
          <th class="num">${t("alerts.observed")}</th><th class="num">${t("alerts.threshold")}</th>
          <th>${t("alerts.status_label")}</th><th>${t("alerts.assignee")}</th></tr></thead><tbody></tbody></table>
        <p class="muted" id="alerts-empty" hidden>${t("alerts.none_found")}</p>
      </div>
      <div class="card" id="alerts-detail"><p class="muted">${t("alerts.pick_one")}</p></div>
    </div>`;
  fillFilters(main, facets, filters);
  fillTable(main, list, params.alert);
  const count = main.querySelector("#alerts-count");
  count.textContent = list.total ? `${(page - 1) * PAGE + 1}–${(page - 1) * PAGE + list.items.length} / ${num(list.total)}` : "0";
  main.querySelector("#alerts-prev").disabled = page <= 1;
  main.querySelector("#alerts-next").disabled = page * PAGE >= list.total;
  main.querySelector("#alerts-prev").addEventListener("click", () => navigate({ page: page - 1 }));
  main.querySelector("#alerts-next").addEventListener("click", () => navigate({ page: page + 1 }));
  main.querySelector("#alerts-csv").addEventListener("click", () =>
    downloadCsv("provista-alerts.csv",
      ["alert_id", "source", "rule", "county_code", "hospital_id", "subject", "period_start", "period_end",
        "observed", "threshold", "severity", "status", "assignee", "detail"],
      list.items.map((a) => [a.alert_id, a.source, a.rule, a.county_code, a.hospital_id, a.subject, a.period_start,
        a.period_end, a.observed, a.threshold, a.severity, a.status, a.assignee, detailText(a)])));
  if (params.alert) await showDetail(main.querySelector("#alerts-detail"), params.alert, me);
}

function fillFilters(main, facets, filters) {
  const options = {
    source: facets.sources.map((v) => [v, label("source", v)]),
    status: facets.statuses.map((v) => [v, label("status", v)]),
    disease: facets.subjects.map((s) => [s.code, lang === "en" ? s.name_en || label("subject", s.code) : label("subject", s.code)]),
    region: [...facets.cities, ...facets.counties].map((r) => [r.code, (lang === "en" ? r.name_en : r.name_zh) || r.code]),
    severity: facets.severities.map((v) => [v, label("severity", v)]),
  };
  for (const el of main.querySelectorAll("#alerts-filters [data-key]")) {
    const key = el.dataset.key;
    if (el.tagName === "SELECT") {
      el.add(new Option(t("alerts.all"), "", false, !filters[key]));
      for (const [value, text] of options[key]) el.add(new Option(text, value, false, value === filters[key]));
    } else {
      el.value = filters[key] || "";
    }
    el.addEventListener("change", () => navigate({ [key]: el.value || null, page: null, alert: null }));
  }
}

function fillTable(main, list, selected) {
  const body = main.querySelector("#alerts-table tbody");
  main.querySelector("#alerts-empty").hidden = list.items.length > 0;
  for (const a of list.items) {
    const tr = body.insertRow();
    tr.dataset.id = a.alert_id;
    tr.className = `alerts-row${a.alert_id === selected ? " selected" : ""}`;
    const cells = [
      period(a),
      null, label("method", a.rule), place(a), subject(a), num(a.observed, 1), num(a.threshold, 2), null, a.assignee || "",
    ];
    cells.forEach((text, i) => {
      const td = tr.insertCell();
      if (i === 5 || i === 6) td.className = "num";
      if (i === 0) td.className = "nowrap";
      if (text != null) td.textContent = text;
    });
    tr.cells[1].innerHTML = badge("severity", a.severity);
    tr.cells[1].firstChild.textContent = label("severity", a.severity);
    tr.cells[7].innerHTML = badge("status", a.status);
    tr.cells[7].firstChild.textContent = label("status", a.status);
    tr.addEventListener("click", () => navigate({ alert: a.alert_id }));
  }
}

async function showDetail(panel, id, me) {
  const data = await api(`/api/alerts/${encodeURIComponent(id)}`);
  const a = data.alert;
  const canEdit = EDITORS.includes(me?.role);
  panel.innerHTML = `
    <h3 id="alerts-detail-title"></h3>
    <p id="alerts-detail-text"></p>
    <p class="muted" id="alerts-detail-meta"></p>
    <div class="chart" id="alerts-chart"></div>
    <div id="alerts-actions"></div>
    <h4>${t("alerts.history")}</h4>
    <ol class="alerts-history" id="alerts-history"></ol>`;
  panel.querySelector("#alerts-detail-title").textContent = `${subject(a)} · ${place(a)}`;
  panel.querySelector("#alerts-detail-text").textContent = detailText(a);
  panel.querySelector("#alerts-detail-meta").textContent = [
    label("source", a.source), label("method", a.rule), a.frequency ? label("freq", a.frequency) : null,
    `${t("alerts.status_label")}: ${label("status", data.inbox.status)}`,
    data.inbox.assignee ? `${t("alerts.assignee")}: ${data.inbox.assignee}` : null,
  ].filter(Boolean).join(" · ");
  drawSeries(panel.querySelector("#alerts-chart"), data.series, a);
  fillHistory(panel.querySelector("#alerts-history"), data.inbox.history);
  if (canEdit) actions(panel.querySelector("#alerts-actions"), data, me, () => showDetail(panel, id, me));
}

const dayAfter = (iso) => new Date(Date.parse(`${iso}T00:00:00Z`) + 86400000).toISOString().slice(0, 10);
const period = (a) => (a.period_start === a.period_end ? a.period_start
  : `${a.period_start} – ${a.period_end.slice(0, 4) === a.period_start.slice(0, 4) ? a.period_end.slice(5) : a.period_end}`);

function drawSeries(el, series, a) {
  if (!series || !series.points.length) {
    el.classList.remove("chart");
    el.innerHTML = `<p class="muted">${t("alerts.no_series")}</p>`;
    return;
  }
  const valueName = series.value === "window" ? t("alerts.window_count") : t("alerts.count");
  const data = series.points.map((p) => [p.date, p.value]);
  const lines = [
    {
      type: series.frequency === "weekly" ? "bar" : "line", name: valueName, data, showSymbol: false,
      markArea: { itemStyle: { color: "rgba(207,34,46,0.08)" }, data: [[{ xAxis: a.period_start }, { xAxis: dayAfter(a.period_end) }]] },
    },
    { type: "line", name: t("alerts.threshold"), step: "middle", showSymbol: false, connectNulls: false,
      data: series.points.map((p) => [p.date, p.threshold]), lineStyle: { type: "dashed", color: "#cf222e" },
      itemStyle: { color: "#cf222e" } },
    { type: "scatter", name: t("alerts.alarm"), symbolSize: 9, itemStyle: { color: "#cf222e" },
      data: series.points.filter((p) => p.raised).map((p) => [p.date, p.value]) },
  ];
  if (series.value === "window") {
    lines.unshift({ type: "bar", name: t("alerts.count"), data: series.points.map((p) => [p.date, p.count]),
      itemStyle: { color: "#9ecae1" }, barMaxWidth: 6 });
  }
  chart(el).setOption({
    tooltip: { trigger: "axis", valueFormatter: (v) => num(v, 2) },
    legend: { top: 0 },
    toolbox: toolbox(),
    grid: { left: 50, right: 20, top: 40, bottom: 60 },
    xAxis: { type: "time" },
    yAxis: { type: "value", minInterval: 1 },
    dataZoom: [{ type: "inside" }, { type: "slider" }],
    series: lines,
  });
}

function fillHistory(list, history) {
  if (!history.length) {
    list.outerHTML = `<p class="muted" id="alerts-history">${t("alerts.no_history")}</p>`;
    return;
  }
  for (const e of history) {
    const li = document.createElement("li");
    const change = e.kind === "note" ? "" : `${label(e.kind === "status" ? "status" : "none", e.from_value ?? "–")} → ${
      label(e.kind === "status" ? "status" : "none", e.to_value ?? "–")}`;
    li.textContent = `${new Date(`${e.at}Z`).toLocaleString(lang)} · ${e.username} · ${label("kind", e.kind)} ${change}`;
    if (e.note) {
      const note = document.createElement("div");
      note.className = "note";
      note.textContent = e.note;
      li.append(note);
    }
    list.append(li);
  }
}

function actions(box, data, me, refresh) {
  box.innerHTML = `
    <label class="alerts-note">${t("alerts.note")}<textarea id="alerts-note" rows="2" maxlength="4000"
      placeholder="${t("alerts.note_placeholder")}"></textarea></label>
    <div class="toolbar" id="alerts-status-buttons"></div>
    <div class="toolbar">
      <label>${t("alerts.assignee")} <input id="alerts-assignee" maxlength="64"></label>
      <button type="button" id="alerts-assign">${t("alerts.assign")}</button>
      <button type="button" id="alerts-assign-me">${t("alerts.assign_me")}</button>
      <button type="button" id="alerts-add-note">${t("alerts.add_note")}</button>
    </div>
    <p class="error" id="alerts-error" role="alert"></p>`;
  const note = box.querySelector("#alerts-note");
  const error = box.querySelector("#alerts-error");
  const url = `/api/alerts/${encodeURIComponent(data.alert.alert_id)}`;
  const send = async (path, method, body) => {
    error.textContent = "";
    try {
      await api(path, { method, body: JSON.stringify(body) });
      await refresh();
    } catch (err) {
      error.textContent = err.message;
    }
  };
  const buttons = box.querySelector("#alerts-status-buttons");
  for (const status of data.inbox.transitions) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.status = status;
    b.className = `to-${status}`;
    b.textContent = label("to", status);
    b.addEventListener("click", () => send(url, "PATCH", { status, note: note.value || null }));
    buttons.append(b);
  }
  if (!data.inbox.transitions.length) buttons.textContent = t("alerts.final");
  box.querySelector("#alerts-assignee").value = data.inbox.assignee || "";
  box.querySelector("#alerts-assign").addEventListener("click", () => {
    const who = box.querySelector("#alerts-assignee").value.trim();
    send(url, "PATCH", who ? { assignee: who, note: note.value || null } : { unassign: true });
  });
  box.querySelector("#alerts-assign-me").addEventListener("click", () =>
    send(url, "PATCH", { assignee: me.username, note: note.value || null }));
  box.querySelector("#alerts-add-note").addEventListener("click", () => {
    if (note.value.trim()) send(`${url}/notes`, "POST", { note: note.value });
  });
}
