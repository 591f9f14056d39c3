// Accounts (admin only): every user with role, scope, state and live sessions; create one, change role or
// scope, disable or enable, set a new password, end a user's sessions. The server checks every change
// (policy, scope codes against the warehouse, the last admin) and audits it; this page only asks.
import { api } from "../api.js";
import { t } from "../i18n.js";

const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};
const select = (values, current, label = (v) => v) => {
  const s = el("select");
  for (const v of values) s.add(new Option(label(v), v, false, v === current));
  return s;
};
const when = (v) => (v ? new Date(`${v}Z`).toLocaleString() : "–");

export async function render(main) {
  const data = await api("/api/admin/users");
  const roleName = (r) => t(`security.role.${r}`);
  const kindName = (k) => t(`security.scope.${k}`);
  main.replaceChildren();
  const status = el("p", { id: "admin-status", role: "status" });
  const done = async (message) => {
    if (!location.hash.startsWith("#/admin")) return; // the user has moved on: do not draw over that page
    await render(main);
    main.querySelector("#admin-status").textContent = message;
  };
  const fail = (err) => {
    status.className = "error";
    status.textContent = t("common.error") + err.message;
  };

  // Create an account.
  const form = el("form", { id: "admin-create", className: "toolbar card" });
  const fields = {
    username: el("input", { name: "username", required: true, placeholder: t("auth.username"), autocomplete: "off" }),
    password: el("input", { name: "password", type: "password", required: true, minLength: 12,
      placeholder: t("security.password_rule"), autocomplete: "new-password" }),
    role: select(data.roles, "analyst", roleName),
    scope_kind: select(data.scope_kinds, "province", kindName),
    scope_code: el("input", { name: "scope_code", required: true, value: "330000", size: 14 }),
  };
  fields.role.name = "role";
  fields.scope_kind.name = "scope_kind";
  form.append(el("strong", { textContent: t("security.new_user") }), ...Object.values(fields),
    el("button", { type: "submit", textContent: t("security.create") }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, f.value]));
    try {
      await api("/api/admin/users", { method: "POST", body: JSON.stringify(body) });
      await done(t("security.created").replace("{user}", body.username));
    } catch (err) { fail(err); }
  });

  // The accounts.
  const table = el("table", { id: "admin-users" });
  const head = table.createTHead().insertRow();
  for (const key of ["user", "role", "scope", "state", "sessions", "password_changed", "actions"]) {
    head.append(el("th", { textContent: t(`security.col.${key}`) }));
  }
  const body = table.createTBody();
  for (const u of data.users) {
    const tr = body.insertRow();
    tr.dataset.user = u.username;
    tr.insertCell().textContent = u.username;
    const role = select(data.roles, u.role, roleName);
    const kind = select(data.scope_kinds, u.scope_kind, kindName);
    const code = el("input", { value: u.scope_code, size: 14 });
    tr.insertCell().append(role);
    tr.insertCell().append(kind, " ", code);
    tr.insertCell().textContent = u.disabled ? t("security.disabled") : t("security.enabled");
    tr.insertCell().textContent = String(u.sessions);
    tr.insertCell().textContent = when(u.password_changed_at);
    const change = async (patch, message) => {
      try {
        await api(`/api/admin/users/${encodeURIComponent(u.username)}`, { method: "PATCH", body: JSON.stringify(patch) });
        await done(message);
      } catch (err) { fail(err); }
    };
    const save = el("button", { type: "button", className: "save", textContent: t("security.save") });
    save.addEventListener("click", () =>
      change({ role: role.value, scope_kind: kind.value, scope_code: code.value }, t("security.saved").replace("{user}", u.username)));
    const toggle = el("button", { type: "button", className: "toggle",
      textContent: u.disabled ? t("security.enable") : t("security.disable") });
    toggle.addEventListener("click", () =>
      change({ disabled: !u.disabled }, t("security.saved").replace("{user}", u.username)));
    const password = el("input", { type: "password", placeholder: t("security.new_password"), size: 16,
      autocomplete: "new-password" });
    const reset = el("button", { type: "button", className: "reset", textContent: t("security.reset") });
    reset.addEventListener("click", async () => {
      try {
        await api(`/api/admin/users/${encodeURIComponent(u.username)}/password`,
          { method: "POST", body: JSON.stringify({ password: password.value }) });
        await done(t("security.reset_done").replace("{user}", u.username));
      } catch (err) { fail(err); }
    });
    const logout = el("button", { type: "button", className: "logout", textContent: t("security.end_sessions") });
    logout.addEventListener("click", async () => {
      try {
        await api(`/api/admin/users/${encodeURIComponent(u.username)}/logout`, { method: "POST" });
        await done(t("security.sessions_ended").replace("{user}", u.username));
      } catch (err) { fail(err); }
    });
    tr.insertCell().append(save, " ", toggle, " ", password, " ", reset, " ", logout);
  }
  main.append(el("h2", { textContent: t("security.admin_title") }), form, status,
    el("div", { className: "card" }, table));
}
