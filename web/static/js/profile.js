// The profile: name, target role and level (editable), email and interviews left (read only).

import { ApiError, api, requireUser } from "./api.js";
import { $, busy, clearErrors, mountHeader, showApiError, showFieldError } from "./ui.js";

function fill(form, user) {
  form.email.value = user.email;
  form.full_name.value = user.full_name;
  form.target_role.value = user.target_role;
  for (const radio of form.querySelectorAll("input[name=experience_level]")) radio.checked = radio.value === user.experience_level;
  $("#interviews-left").textContent = String(user.interviews_remaining);
  $("#interviews-left-label").textContent = user.interviews_remaining === 1 ? "interview" : "interviews";
}

async function main() {
  mountHeader("/profile");
  const form = $("#profile-form");
  const saved = $("#profile-saved");
  fill(form, await requireUser());
  form.addEventListener("input", () => (saved.hidden = true));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    saved.hidden = true;
    const body = {
      full_name: form.full_name.value.trim(),
      target_role: form.target_role.value.trim(),
      experience_level: form.experience_level.value,
    };
    let invalid = false;
    if (!body.full_name) invalid = showFieldError(form, "full_name", "Enter your name.") || invalid;
    if (!body.target_role) invalid = showFieldError(form, "target_role", "Enter the role you are preparing for.") || invalid;
    if (invalid) {
      form.querySelector("[aria-invalid='true']")?.focus();
      return;
    }
    try {
      const { data } = await busy($("#save-profile"), "Saving…", () => api.patch("/api/user/profile", body));
      fill(form, data.user);
      saved.textContent = "Your profile is saved.";
      saved.hidden = false;
    } catch (err) {
      if (err instanceof ApiError) showApiError(form, err);
      else throw err;
    }
  });
}

main();
