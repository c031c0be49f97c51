// The landing page and /login: log in, then go where the visitor was going.

import { ApiError, api, currentUser, safeNext } from "./api.js";
import { $, busy, clearErrors, showApiError, showFieldError } from "./ui.js";

const params = new URLSearchParams(location.search);
const next = safeNext(params.get("next"));

async function main() {
  const form = $("#login-form");
  const signupLink = $("#signup-link");
  if (params.get("next")) {
    signupLink.href = `/signup?next=${encodeURIComponent(next)}`;
    const notice = $("#login-notice");
    notice.textContent = "Please log in to continue.";
    notice.hidden = false;
  }
  if (location.pathname === "/login") {
    $("#login-email").focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const email = form.email.value.trim();
    const password = form.password.value;
    let invalid = false;
    if (!email) invalid = showFieldError(form, "email", "Enter your email address.") || invalid;
    if (!password) invalid = showFieldError(form, "password", "Enter your password.") || invalid;
    if (invalid) {
      form.querySelector("[aria-invalid='true']")?.focus();
      return;
    }
    const button = form.querySelector("button[type=submit]");
    try {
      await busy(button, "Logging in…", () => api.post("/api/auth/login", { email, password }, { redirectOn401: false }));
      location.assign(next);
    } catch (err) {
      if (err instanceof ApiError) {
        showApiError(form, err);
        if (err.code === "invalid_credentials") form.password.select();
      } else {
        throw err;
      }
    }
  });

  // Already logged in: straight on.
  const user = await currentUser().catch(() => null);
  if (user) location.replace(next);
}

main();
