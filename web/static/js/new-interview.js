// Start an interview: role (from the profile), type and length; spends one interview and opens the call.

import { ApiError, api, requireUser } from "./api.js";
import { $, busy, clearErrors, mountHeader, showApiError, showFieldError } from "./ui.js";

const NO_CREDITS =
  "You have used all your practice interviews, so a new one cannot start. Your past interviews and their feedback are still in your history. Ask the person who runs this service to add more.";

function showNoCredits(form) {
  const notice = $("#credits-notice");
  notice.replaceChildren();
  const strong = document.createElement("strong");
  strong.textContent = "No interviews left";
  const text = document.createElement("p");
  text.textContent = NO_CREDITS;
  const link = document.createElement("a");
  link.href = "/history";
  link.textContent = "Go to your history";
  const wrap = document.createElement("div");
  wrap.append(strong, text, link);
  notice.append(wrap);
  notice.hidden = false;
  form.querySelector("#create-interview").disabled = true;
  $("#credits-line").textContent = "";
}

function creditsLine(left) {
  return left === 1
    ? "This is your last practice interview: starting uses it."
    : `You have ${left} practice interviews left; starting uses one.`;
}

async function main() {
  mountHeader("/interviews/new");
  const form = $("#new-interview-form");
  const user = await requireUser();
  if (!form.role.value) form.role.value = user.target_role;
  if (user.interviews_remaining <= 0) showNoCredits(form);
  else $("#credits-line").textContent = creditsLine(user.interviews_remaining);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const role = form.role.value.trim();
    if (!role) {
      showFieldError(form, "role", "Enter the role you are interviewing for.");
      form.role.focus();
      return;
    }
    const body = {
      role,
      interview_type: form.interview_type.value,
      duration_minutes: Number(form.duration_minutes.value),
    };
    const button = $("#create-interview");
    try {
      const { data } = await busy(button, "Starting…", () => api.post("/api/interviews/create", body));
      location.assign(`/interviews/${data.interview.id}/call`);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code === "no_credits") showNoCredits(form);
      else showApiError(form, err);
    }
  });
}

main();
