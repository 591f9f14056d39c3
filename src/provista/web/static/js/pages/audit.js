// The audit log (admin and auditor): search by user, action and period, newest first, paged; the same
// filters export every matching event as CSV for an inspector. Times show in the browser's time zone;
// the filters' days are the browser's days too. The URL keeps the filters, so a search can be bookmarked.
import { api, download, query } from "../api.js";
import { t } from "../i18n.js";
import { navigate } from "../app.js";

const PAGE = 50;
const ACTIONS = ["", "patient.read", "access.denied", "login", "logout", "user.", "password.", "empi.", "alert.", "audit.export"];

// A local calendar day → the moment it starts, as ISO 8601 with the browser's offset.
const dayStart = (day, plus = 0) => {
  if (!day) return null;
  const d = new Date(`${day}T00:00:00`);
  d.setDate(d.getDate() + plus);
  return d.toISOString();
};

export async function render(main, params) {
  const offset = Number(params.offset || 0);
  const filters = {
    user: params.user, action: params.action, target: params.target,
    since: dayStart(params.from), until: dayStart(params.to, 1),
  };
  const data = await api(`/api/audit/events?${query({ ...filters, limit: PAGE, offset })}`);
  main.innerHTML = `<h2>${t("security.audit_title")}</h2>
    <form id="audit-filter" class="toolbar">
      <label>${t("security.col.user")} <input name="user" size="12"></label>
      <label>${t("security.col.action")} <select name="action"></select></label>
      <label>${t("security.col.target")} <input name="target" size="16"></label>
      <label>${t("ops.from")} <input name="from" type="date"></label>
      <label>${t("ops.to")} <input name="to" type="date"></label>
      <button type="submit">${t("security.search")}</button>
      <button id="audit-csv" type="button">${t("common.csv")}</button>
      <button id="prev" type="button">${t("common.prev")}</button><button id="next" type="button">${t("common.next")}</button>
      <span id="count"></span>
    </form>
    <div class="card"><table id="audit-events"><thead><tr></tr></thead><tbody></tbody></table></div>`;
  const form = main.querySelector("#audit-filter");
  const field = (name) => form.elements.namedItem(name); // not form.action / form.target: those are attributes
  for (const a of ACTIONS) field("action").add(new Option(a ? a : t("trends.all"), a, false, a === (params.action || "")));
  for (const key of ["user", "target", "from", "to"]) field(key).value = params[key] || "";
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const f = Object.fromEntries(new FormData(form));
    navigate({ ...Object.fromEntries(Object.entries(f).map(([k, v]) => [k, v || null])), offset: null });
  });
  const cols = ["at", "user", "role", "action", "target", "purpose", "outcome", "client_ip", "detail"];
  const head = main.querySelector("thead tr");
  for (const c of cols) head.append(Object.assign(document.createElement("th"), { textContent: t(`security.col.${c}`) }));
  const body = main.querySelector("tbody");
  for (const e of data.items) {
    const tr = body.insertRow();
    tr.dataset.seq = e.seq;
    const values = [new Date(`${e.at}Z`).toLocaleString(), e.username, e.role, e.action, e.target, e.purpose,
      e.outcome, e.client_ip, e.detail === "{}" ? "" : e.detail];
    for (const v of values) tr.insertCell().textContent = v;
    if (e.outcome !== "ok") tr.className = "error";
  }
  main.querySelector("#count").textContent =
    data.total ? `${offset + 1}–${offset + data.items.length} / ${data.total}` : t("security.no_events");
  main.querySelector("#prev").disabled = offset === 0;
  main.querySelector("#next").disabled = offset + PAGE >= data.total;
  main.querySelector("#prev").addEventListener("click", () => navigate({ offset: Math.max(0, offset - PAGE) }));
  main.querySelector("#next").addEventListener("click", () => navigate({ offset: offset + PAGE }));
  main.querySelector("#audit-csv").addEventListener("click", () =>
    download(`/api/audit/export.csv?${query(filters)}`, "provista-audit.csv"));
}
