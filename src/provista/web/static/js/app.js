// The shell: login, language, navigation. The URL holds each page's state (#/page?key=value…),
// so any view can be bookmarked or shared.
import { api } from "./api.js";
import { load, t, lang } from "./i18n.js";
import * as overview from "./pages/overview.js";
import * as map from "./pages/map.js";
import * as trends from "./pages/trends.js";
import * as heatmap from "./pages/heatmap.js";
import * as quality from "./pages/quality.js";
import * as operations from "./pages/operations.js";
import * as admin from "./pages/admin.js";
import * as audit from "./pages/audit.js";
import * as account from "./pages/account.js";
import * as alerts from "./pages/alerts.js";
import * as surveillance from "./pages/surveillance.js";
import * as forecast from "./pages/forecast.js";

const pages = { overview, map, trends, heatmap, quality, operations, bigscreen: overview };
Object.assign(pages, { admin, audit, account });
Object.assign(pages, { alerts });
Object.assign(pages, { surveillance });
Object.assign(pages, { forecast });
const main = document.getElementById("main");
let me = null;
let timer = null;

export function route() {
  const [path, search] = location.hash.replace(/^#\/?/, "").split("?");
  return { page: pages[path] ? path : "overview", params: Object.fromEntries(new URLSearchParams(search || "")) };
}

export function navigate(patch) {
  const { page, params } = route();
  const next = { ...params, ...patch };
  Object.keys(next).forEach((k) => next[k] == null && delete next[k]);
  location.hash = `#/${page}?${new URLSearchParams(next)}`;
}

async function render() {
  clearInterval(timer);
  if (!me) return showLogin();
  const { page, params } = route();
  document.body.classList.toggle("dark", page === "bigscreen");
  document.querySelectorAll("#nav a").forEach((a) => a.classList.toggle("active", a.getAttribute("href") === `#/${page}`));
  // Each navigation renders into a view of its own: a page still loading for an earlier navigation (the
  // overview's requests after a login, say) then writes into its detached view, not over this page.
  const view = document.createElement("div");
  view.innerHTML = `<p>${t("common.loading")}</p>`;
  main.replaceChildren(view);
  try {
    await pages[page].render(view, params, me);
    if (page === "bigscreen") timer = setInterval(() => pages[page].render(view, params, me), 60000);
  } catch (err) {
    view.innerHTML = `<p class="error"></p>`;
    view.firstChild.textContent = t("common.error") + err.message;
  }
}

function showLogin() {
  document.getElementById("logout").hidden = true;
  document.getElementById("who").textContent = "";
  main.replaceChildren(document.getElementById("login-form").content.cloneNode(true));
  load(lang);
  document.getElementById("login").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      me = await api("/api/auth/login", { method: "POST", body: JSON.stringify(Object.fromEntries(form)) });
      loggedIn();
    } catch (err) {
      document.getElementById("login-error").textContent = err.status === 429
        ? t("security.locked").replace("{n}", Math.ceil((err.retryAfter || 60) / 60)) : t("auth.failed");
    }
  });
}

function loggedIn() {
  document.getElementById("logout").hidden = false;
  document.getElementById("who").textContent = `${me.username} (${me.scope_code})`;
  document.querySelectorAll("#nav a[data-roles]").forEach((a) => { a.hidden = !a.dataset.roles.split(" ").includes(me.role); });
  render();
}

document.getElementById("lang").addEventListener("click", async () => {
  await load(lang === "zh-CN" ? "en" : "zh-CN");
  document.getElementById("lang").textContent = t("lang.switch");
  render();
});
document.getElementById("logout").addEventListener("click", async () => {
  await api("/api/auth/logout", { method: "POST" }).catch(() => null);
  me = null;
  showLogin();
});
window.addEventListener("provista:logged-out", () => { me = null; showLogin(); });
window.addEventListener("hashchange", render);

await load(lang);
document.getElementById("lang").textContent = t("lang.switch");
me = (await api("/api/auth/session").catch(() => ({ user: null }))).user;
me ? loggedIn() : showLogin();
