// Translations (zh-CN default, en) and locale-aware number and date formats.
let dict = {};
export let lang = localStorage.getItem("provista.lang") || "zh-CN";

export async function load(code = lang) {
  lang = code;
  localStorage.setItem("provista.lang", code);
  dict = await (await fetch(`/static/i18n/${code}.json`)).json();
  document.documentElement.lang = code;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
}

// Keys are flat ("nav.map") or nested by page ({"ops": {"title": …}} answers t("ops.title")).
export const t = (key) => dict[key] ?? key.split(".").reduce((node, part) => node?.[part], dict) ?? key;
export const num = (v, digits = 0) =>
  v == null ? "–" : new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(v);
export const pct = (v) => (v == null ? "–" : new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 }).format(v));
export const date = (v) => (v ? new Intl.DateTimeFormat(lang, { year: "numeric", month: "short", day: "numeric" }).format(new Date(v)) : "–");
export const name = (row) => (lang === "en" ? row.name_en : row.name_zh);
