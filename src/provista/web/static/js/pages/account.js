// Your account: who you are and what you may see, change your password, log out on every device.
import { api } from "../api.js";
import { t } from "../i18n.js";

export async function render(main, params, me) {
  main.innerHTML = `<h2>${t("security.account_title")}</h2>
    <div class="card"><p id="account-who"></p>
      <button id="account-everywhere" type="button">${t("security.logout_everywhere")}</button></div>
    <form id="account-password" class="card login">
      <h3>${t("security.change_password")}</h3>
      <label><span>${t("security.current_password")}</span>
        <input name="current" type="password" autocomplete="current-password" required></label>
      <label><span>${t("security.new_password")}</span>
        <input name="new" type="password" autocomplete="new-password" minlength="12" required></label>
      <small class="muted">${t("security.password_rule")}</small>
      <button type="submit">${t("security.save")}</button>
      <p id="account-status" role="status"></p>
    </form>`;
  main.querySelector("#account-who").textContent =
    `${me.username} · ${t(`security.role.${me.role}`)} · ${t(`security.scope.${me.scope_kind}`)} ${me.scope_code}`;
  const status = main.querySelector("#account-status");
  main.querySelector("#account-password").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(new FormData(event.target));
    try {
      await api("/api/auth/password", { method: "POST", body: JSON.stringify(body) });
      event.target.reset();
      status.className = "";
      status.textContent = t("security.password_changed");
    } catch (err) {
      status.className = "error";
      status.textContent = t("common.error") + err.message;
    }
  });
  main.querySelector("#account-everywhere").addEventListener("click", async () => {
    await api("/api/auth/logout-everywhere", { method: "POST" });
    window.dispatchEvent(new CustomEvent("provista:logged-out"));
  });
}
