// Create an account (which logs in), then go to the dashboard or where the visitor was going.

import { ApiError, api, currentUser, safeNext } from "./api.js";
import { $, busy, clearErrors, showApiError, showFieldError } from "./ui.js";

const params = new URLSearchParams(location.search);
const next = safeNext(params.get("next"));

function check(form, body) {
  const problems = [];
  if (!body.full_name) problems.push(["full_name", "Enter your name."]);
  if (!body.email) problems.push(["email", "Enter your email address."]);
  else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(body.email)) problems.push(["email", "Enter an email address like name@example.com."]);
  if (!body.password) problems.push(["password", "Choose a password."]);
  else if (body.password.length < 8) problems.push(["password", "Use at least 8 characters."]);
  if (!body.target_role) problems.push(["target_role", "Enter the role you are preparing for."]);
  if (!body.experience_level) problems.push(["experience_level", "Choose your experience level."]);
  for (const [field, message] of problems) showFieldError(form, field, message);
  return problems.length === 0;
}

async function main() {
  const form = $("#signup-form");
  if (params.get("next")) $("#login-link").href = `/login?next=${encodeURIComponent(next)}`;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = {
      full_name: form.full_name.value.trim(),
      email: form.email.value.trim(),
      password: form.password.value,
      target_role: form.target_role.value.trim(),
      experience_level: form.experience_level.value,
    };
    if (!check(form, body)) {
      form.querySelector("[aria-invalid='true']")?.focus();
      return;
    }
    const button = form.querySelector("button[type=submit]");
    try {
      await busy(button, "Creating your account…", () => api.post("/api/auth/signup", body, { redirectOn401: false }));
      location.assign(next);
    } catch (err) {
      if (err instanceof ApiError) showApiError(form, err);
      else throw err;
    }
  });
  const user = await currentUser().catch(() => null);
  if (user) location.replace(next);
}

main();
