// Transcript lines of both sides: the live view of a call (interim text replaced until final) and the
// stored transcript of an interview.

import { el } from "./ui.js";

export const SPEAKERS = { user: "You", assistant: "Interviewer" };

/**
 * One transcript line. `kind` "aside" marks a line that is not a turn of the interview ("Sure, take your time.",
 * an idle prompt, a rejoin greeting): shown smaller and muted, and labelled.
 */
export function lineNode(role, text, { interim = false, interrupted = false, kind = "turn" } = {}) {
  const aside = kind === "aside";
  const node = el(
    "li",
    {
      class: `line line--${role}${aside ? " line--aside" : ""}${interim ? " is-interim" : ""}`,
      dataset: { role, kind: aside ? "aside" : "turn", final: String(!interim) },
    },
    el("span", { class: "line__who" }, SPEAKERS[role] || role),
    el("span", { class: "line__text" }, text),
  );
  if (aside) node.append(el("span", { class: "line__note" }, "Aside, not part of an answer"));
  if (interrupted) node.append(el("span", { class: "line__note" }, "Interrupted"));
  return node;
}

/** The line of a stored message (`GET /api/interviews/{id}`). */
export function messageNode(m) {
  return lineNode(m.role, m.content, { interrupted: m.interrupted, kind: m.kind });
}

/** The live transcript of a call. Each role has at most one interim line, replaced until its final arrives. */
export class LiveTranscript {
  constructor(list, { announcer = null, empty = null } = {}) {
    this.list = list;
    this.announcer = announcer;
    this.empty = empty;
    this.current = {};
  }

  _nearBottom() {
    const list = this.list;
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  _scroll(stick) {
    if (stick) this.list.scrollTop = this.list.scrollHeight;
  }

  _shown() {
    if (this.empty) this.empty.hidden = this.list.children.length > 0;
  }

  /** Lines already said (a rejoined interview). A store that has not caught up yet never hides lines shown. */
  setHistory(messages) {
    const shown = this.list.querySelectorAll(".line[data-final=true]").length;
    if (messages.length < shown) {
      this.settle();
      return;
    }
    this.list.replaceChildren(...messages.map(messageNode));
    this.current = {};
    this._shown();
    this._scroll(true);
  }

  /** A `transcript` event: {role, text, final}. */
  update(role, text, final) {
    if (!text && !final) return;
    const stick = this._nearBottom();
    let node = this.current[role];
    if (final && !text) {
      // Nothing was heard after all: the interim line goes.
      node?.remove();
      delete this.current[role];
      this._shown();
      return;
    }
    if (!node) {
      if (!text) return;
      node = lineNode(role, text, { interim: !final });
      this.list.append(node);
    } else {
      node.querySelector(".line__text").textContent = text;
    }
    node.classList.toggle("is-interim", !final);
    node.dataset.final = String(final);
    if (final) {
      delete this.current[role];
      if (this.announcer && text) this.announcer.textContent = `${SPEAKERS[role] || role}: ${text}`;
    } else {
      this.current[role] = node;
    }
    this._shown();
    this._scroll(stick);
  }

  /** The call ended: interim text that never became final stays, in grey. */
  settle() {
    this.current = {};
  }
}
