// Reusable chart builders: each returns an ECharts instance; every chart can be saved as PNG.
import { t, num, lang } from "./i18n.js";

const dark = () => document.body.classList.contains("dark");
const toolbox = () => ({ feature: { saveAsImage: { title: t("common.png"), pixelRatio: 2 } } });

export function chart(el) {
  const existing = window.echarts.getInstanceByDom(el);
  if (existing) existing.dispose();
  const c = window.echarts.init(el, dark() ? "dark" : null, { locale: lang === "en" ? "EN" : "ZH" });
  const observer = new ResizeObserver(() => {
    if (c.isDisposed()) return observer.disconnect();
    if (!el.isConnected) {  // the page was redrawn: let the old chart go
      observer.disconnect();
      return c.dispose();
    }
    c.resize();
  });
  observer.observe(el);
  return c;
}

export function spark(el, values) {
  const c = chart(el);
  c.setOption({
    grid: { left: 0, right: 0, top: 2, bottom: 2 },
    xAxis: { type: "category", show: false, data: values.map((_, i) => i) },
    yAxis: { type: "value", show: false, scale: true },
    series: [{ type: "line", data: values, symbol: "none", areaStyle: { opacity: 0.15 } }],
    animation: false,
  });
  return c;
}

export function lines(el, series, { zoom = true } = {}) {
  const c = chart(el);
  c.setOption({
    tooltip: { trigger: "axis", valueFormatter: (v) => num(v) },
    legend: { top: 0 },
    toolbox: toolbox(),
    grid: { left: 60, right: 20, top: 40, bottom: zoom ? 70 : 30 },
    xAxis: { type: "time" },
    yAxis: { type: "value", axisLabel: { formatter: (v) => num(v) } },
    dataZoom: zoom ? [{ type: "inside" }, { type: "slider" }] : [],
    series: series.map((s) => ({ type: "line", name: s.name, data: s.points, showSymbol: false })),
  });
  return c;
}

export function choropleth(el, mapName, geojson, values, label) {
  window.echarts.registerMap(mapName, geojson);
  const c = chart(el);
  const vs = values.map((v) => v.value).filter((v) => v != null);
  c.setOption({
    tooltip: { trigger: "item", formatter: (p) => `${p.name}<br>${label}: ${num(p.value, 2)}` },
    toolbox: toolbox(),
    visualMap: { min: Math.min(0, ...vs), max: Math.max(1, ...vs), calculable: true, left: 10, bottom: 10,
                 inRange: { color: ["#e0f3f8", "#74add1", "#313695"] }, formatter: (v) => num(v, 1) },
    series: [{
      type: "map", map: mapName, roam: true, nameProperty: "adcode",
      data: values.map((v) => ({ name: v.code, value: v.value, label: v.label })),
      label: { show: true, formatter: (p) => p.data?.label ?? "" },
      emphasis: { label: { show: true } },
    }],
  });
  return c;
}

export function heat(el, data, rowLabel = (r) => r) {
  const c = chart(el);
  const max = Math.max(1, ...data.cells.map((x) => x[2]));
  c.setOption({
    tooltip: { position: "top", valueFormatter: (v) => num(v) },
    toolbox: toolbox(),
    grid: { left: 110, right: 20, top: 20, bottom: 90 },
    xAxis: { type: "category", data: data.columns, splitArea: { show: true } },
    yAxis: { type: "category", data: data.rows.map(rowLabel), splitArea: { show: true } },
    visualMap: { min: 0, max, calculable: true, orient: "horizontal", left: "center", bottom: 0 },
    dataZoom: [{ type: "slider", xAxisIndex: 0, bottom: 45 }],
    series: [{ type: "heatmap", data: data.cells }],
  });
  return c;
}

export function bars(el, names, values, label) {
  const c = chart(el);
  c.setOption({
    tooltip: { trigger: "axis", valueFormatter: (v) => num(v, 2) },
    toolbox: toolbox(),
    grid: { left: 110, right: 30, top: 20, bottom: 30 },
    xAxis: { type: "value", name: label },
    yAxis: { type: "category", data: names, inverse: true },
    series: [{ type: "bar", data: values }],
  });
  return c;
}

export function downloadCsv(filename, header, rows) {
  const esc = (v) => (v == null ? "" : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  const text = [header, ...rows].map((r) => r.map(esc).join(",")).join("\n");
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob(["\ufeff" + text], { type: "text/csv;charset=utf-8" }));
  a.download = filename;
  a.click();
  URL.revokeObjectURL(a.href);
}
