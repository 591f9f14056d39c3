// The one API client: JSON in and out, a 401 sends the user to the login form.
// Every change (POST, PUT, PATCH, DELETE) carries the session's CSRF token, read from the provista_csrf
// cookie the server set at log-in; the server refuses a change without it (403).
export class ApiError extends Error {
  constructor(message, status, retryAfter = null) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter; // seconds, on a 429
  }
}

export function csrfToken() {
  const cookie = document.cookie.split("; ").find((c) => c.startsWith("provista_csrf="));
  return cookie ? decodeURIComponent(cookie.slice("provista_csrf=".length)) : "";
}

export async function api(path, options = {}) {
  const method = (options.method || "GET").toUpperCase();
  const headers = { "Content-Type": "application/json", ...(options.headers || {}) };
  if (!["GET", "HEAD", "OPTIONS"].includes(method)) headers["X-CSRF-Token"] = csrfToken();
  const response = await fetch(path, { credentials: "same-origin", ...options, headers });
  if (response.status === 401 && path !== "/api/auth/login") {
    window.dispatchEvent(new CustomEvent("provista:logged-out"));
    throw new ApiError("not logged in", 401);
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    const detail = typeof body.detail === "string" ? body.detail : response.statusText;
    throw new ApiError(detail, response.status, Number(response.headers.get("Retry-After")) || null);
  }
  return response.status === 204 ? null : response.json();
}

// A download (CSV export) through the session: fetched, then saved under the server's file name.
export async function download(path, fallbackName) {
  const response = await fetch(path, { credentials: "same-origin" });
  if (response.status === 401) {
    window.dispatchEvent(new CustomEvent("provista:logged-out"));
    throw new ApiError("not logged in", 401);
  }
  if (!response.ok) throw new ApiError(response.statusText, response.status);
  const named = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
  const url = URL.createObjectURL(await response.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: named ? named[1] : fallbackName });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export const query = (params) =>
  new URLSearchParams(Object.entries(params).filter(([, v]) => v != null && v !== "")).toString();
