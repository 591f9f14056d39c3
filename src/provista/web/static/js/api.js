// The one API client: JSON in and out, a 401 sends the user to the login form.
export class ApiError extends Error {}

export async function api(path, options = {}) {
  const response = await fetch(path, {
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    ...options,
  });
  if (response.status === 401) {
    window.dispatchEvent(new CustomEvent("provista:logged-out"));
    throw new ApiError("not logged in");
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new ApiError(typeof body.detail === "string" ? body.detail : response.statusText);
  }
  return response.status === 204 ? null : response.json();
}

export const query = (params) =>
  new URLSearchParams(Object.entries(params).filter(([, v]) => v != null && v !== "")).toString();
