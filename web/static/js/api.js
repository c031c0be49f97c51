// The JSON API: one fetch wrapper that turns every error into an ApiError with the server's message.

export class ApiError extends Error {
  constructor(status, code, message, field = null, retryAfter = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    /** The form field the message names (`'email': ...`), when it names one. */
    this.field = field;
    /** Seconds the server asked to wait before trying again (`Retry-After`), when it said. */
    this.retryAfter = retryAfter;
  }
}

/** Refusals that mean "the server is full right now: try again in a moment". */
export const TRY_AGAIN_CODES = new Set(["busy", "media_ports_exhausted", "too_many_pending_calls", "draining"]);

function retryAfterOf(response) {
  const seconds = Number.parseInt(response.headers.get("Retry-After") || "", 10);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
}

const FIELD_IN_MESSAGE = /'([a-z_]+)'/;

/** The field an API error is about: named in quotes in the message, or implied by its code. */
export function fieldOf(code, message) {
  if (code === "weak_password") return "password";
  if (code === "email_taken") return "email";
  const match = FIELD_IN_MESSAGE.exec(message || "");
  return match ? match[1] : null;
}

/** Where a visitor without a login goes: the login page, then back to `path`. */
export function loginUrl(path = location.pathname + location.search) {
  return `/login?next=${encodeURIComponent(path)}`;
}

/**
 * Call the API. Resolves to `{status, data}` for any 2xx; throws ApiError otherwise.
 * A 401 sends the visitor to the login page unless `redirectOn401` is false.
 */
export async function request(method, path, body = undefined, { redirectOn401 = true } = {}) {
  const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, "network_error", "The server cannot be reached. Check your connection and try again.");
  }
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (response.ok) return { status: response.status, data };
  const error = data && data.error ? data.error : {};
  const code = error.code || "http_error";
  let message = error.message || `The server answered ${response.status}.`;
  if (response.status === 429) message = error.message || "Too many requests; wait a moment and try again.";
  if (response.status === 401 && redirectOn401) {
    location.assign(loginUrl());
    // The page is going away; never resolve, so no half-rendered error flashes.
    return new Promise(() => {});
  }
  throw new ApiError(response.status, code, message, fieldOf(code, message), retryAfterOf(response));
}

export const api = {
  get: (path, options) => request("GET", path, undefined, options),
  post: (path, body, options) => request("POST", path, body ?? {}, options),
  patch: (path, body, options) => request("PATCH", path, body, options),
};

/** The logged-in user, or a redirect to the login page. */
export async function requireUser() {
  const { data } = await api.get("/api/user/profile");
  return data.user;
}

/** The logged-in user, or null (no redirect). */
export async function currentUser() {
  try {
    const { data } = await api.get("/api/user/profile", { redirectOn401: false });
    return data.user;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

/**
 * A page of this site to go to after login; anything else falls back to the dashboard.
 *
 * `next` is resolved the way the browser will resolve it (the URL parser drops tabs and line breaks and reads
 * backslashes as slashes, so "/\t/example.org/" is "//example.org/", another site) and kept only when it is a
 * path on this very origin (returned as the browser parsed it, so nothing is left to reinterpret).
 */
export function safeNext(raw) {
  const fallback = "/dashboard";
  if (typeof raw !== "string" || !raw.startsWith("/")) return fallback;
  let url;
  try {
    url = new URL(raw, location.origin);
  } catch {
    return fallback;
  }
  if (url.origin !== location.origin) return fallback;
  // "/.//example.org/" resolves to the path "//example.org/", which would itself leave the site.
  if (url.pathname.startsWith("//")) return fallback;
  return url.pathname + url.search + url.hash;
}
