// Halqa facilitators' console for one circle. Plain ES module, no build step.
// It speaks the circle's own websocket: `moderate` frames for actions (the server authorises
// each one again), `console` frames for the people, queue and audit, `staff.say` for the side
// channel. Safety: user text only through textContent, never as HTML.

import {
  CLOSE, FINAL_CLOSES, LiveSocket, PROTOCOL, closeReason, clockTime, el, interpolate, isFuture,
  labelOf, newClientId, ngettext, renderMessage, renderPinned, t, timeLeft,
} from "./common.js";
import { SupportBoard } from "./support-board.js";

const root = document.getElementById("console");
const slug = root.dataset.slug;
const $ = (id) => document.getElementById(id);
const els = {
  status: $("status"), alerts: $("alerts"), rules: $("rules"), rulesText: $("rules-text"),
  rulesAccept: $("rules-accept"), ended: $("ended"), endedText: $("ended-text"),
  reconnect: $("reconnect-button"), board: $("board"),
  roomFlags: $("room-flags"), toggleOpen: $("toggle-open"), toggleLock: $("toggle-lock"),
  togglePause: $("toggle-pause"), slowForm: $("slow-form"), slowSeconds: $("slow-seconds"),
  pinned: $("pinned"), unpin: $("unpin-button"), announceForm: $("announce-form"),
  announceInput: $("announce-input"), endButton: $("end-button"),
  messages: $("messages"), composer: $("composer"), input: $("message-input"),
  people: $("people"), peopleCount: $("people-count"), reports: $("reports"),
  reportCount: $("report-count"), staffMessages: $("staff-messages"), staffForm: $("staff-form"),
  staffInput: $("staff-input"), audit: $("audit"),
  privateList: $("private-conversations"), privateEmpty: $("private-empty"),
  privateAnnounce: $("private-announce"),
  dialog: $("action-dialog"), dialogTitle: $("action-title"), dialogAbout: $("action-about"),
  dialogHelp: $("action-help"), dialogConfirm: $("action-confirm"),
  minutes: $("action-minutes"), cooldown: $("action-cooldown"), banMinutes: $("action-ban-minutes"),
  reason: $("action-reason"),
  fields: { minutes: $("field-minutes"), cooldown: $("field-cooldown"), ban: $("field-ban"),
    reason: $("field-reason") },
};

const MAX_ALERTS = 5;
// Reports that are someone waiting for a human (moderation.care.DESK_SOURCES).
const DESK_SOURCES = new Set(["crisis", "help", "private"]);
const REFRESH_MS = 20000; // redraw "time left" in the people list

const state = {
  me: null,
  room: null,
  people: [],
  reports: [],
  lastId: 0,
  byId: new Map(),        // message id -> {message, li}
  actions: new Map(),     // ref -> what was asked, for the answer
  sends: new Set(),       // client ids of our own messages, for errors
  crisis: new Set(),      // message ids the house rules flagged
  dialog: null,           // the action the dialog asks about
};

const live = new LiveSocket({
  slug,
  onFrame: (frame) => handlers[frame.type]?.(frame),
  onClose,
  onStatus: setStatus,
  resumeAfter: () => state.lastId,
});

function setStatus(text) {
  els.status.textContent = text;
}

// Private one-to-one conversations of this facilitator in this circle (support-board.js): opened
// from a person's card or an alert, over this circle's socket; also on the duty desk.
const board = new SupportBoard({
  container: els.privateList, send: (frame) => live.send(frame), announce: els.privateAnnounce,
  empty: els.privateEmpty, onStatus: setStatus,
});

function show(panel) {
  els.rules.hidden = panel !== "rules";
  els.ended.hidden = panel !== "ended";
  els.board.hidden = panel !== "board";
}

// --- labels --------------------------------------------------------------------------------
// Report sources and reasons, access modes and audit kinds are labelled by the protocol's
// vocabulary (labelOf, common.js), in this page's language: the server builds one console frame
// for every facilitator, so a `label` in it may be in someone else's language.
const RULE_LABELS = {
  pii: () => t("personal details"),
  blocked_words: () => t("blocked words"),
  flood: () => t("flooding"),
};
const label = (table, key) => (table[key] ? table[key]() : key);

// What each action that needs more than a click asks, and what it tells the facilitator.
const DIALOGS = {
  "message.delete": {
    title: () => t("Delete this message"), confirm: () => t("Delete"), fields: ["reason"],
    help: () => t("It disappears from every screen at once. The author is not told the reason; it goes to the audit trail."),
  },
  "member.warn": {
    title: () => t("Warn %s"), confirm: () => t("Send the warning"), fields: ["reason"],
    help: () => t("Only this person sees the warning, with your reason. Their warning count goes up by one."),
  },
  "member.mute": {
    title: () => t("Mute %s"), confirm: () => t("Mute"), fields: ["minutes", "reason"],
    help: () => t("They can still read but cannot write until the time is up, even after reloading the page. They see the time left."),
  },
  "member.remove": {
    title: () => t("Remove %s from the session"), confirm: () => t("Remove"), fields: ["cooldown", "reason"],
    help: () => t("They are disconnected now and cannot come back before the cool-down ends."),
  },
  "member.ban": {
    title: () => t("Ban %s from this circle"), confirm: () => t("Ban"), fields: ["ban", "reason"],
    help: () => t("They are disconnected now and cannot come back to this circle until the ban ends or a facilitator lifts it."),
  },
  "member.decline": {
    title: () => t("Do not admit %s"), confirm: () => t("Decline"), fields: ["reason"],
    help: () => t("They leave the waiting room and cannot come in during this session."),
  },
  "session.end": {
    title: () => t("End the session"), confirm: () => t("End the session now"), fields: ["reason"],
    help: () => t("Ends this session only: everyone is told and disconnected, and removals, admissions, the lock, the pause and the pin end with it. The circle stays open for its next sessions on the schedule; to close it, use “Close the circle”."),
  },
};

// --- keeping the keyboard focus across redraws ---------------------------------------------
// The lists are redrawn on every console frame: a button that had the focus gets it back.
const focusKey = (node) => `${node.tagName}|${node.getAttribute("aria-label") || node.textContent}|${node.getAttribute("href") || ""}`;

function refocus(key, scope = document) {
  if (!key) return;
  const again = [...scope.querySelectorAll("button, a")].find((node) => focusKey(node) === key);
  if (again) again.focus();
}

function keepFocus(container, redraw) {
  const active = document.activeElement;
  const key = active && active !== container && container.contains(active) ? focusKey(active) : null;
  redraw();
  if (key && !container.contains(document.activeElement)) refocus(key, container);
}

// --- actions -------------------------------------------------------------------------------
function moderate(action, params, what) {
  const ref = newClientId();
  if (!live.send({ type: "moderate", action, ref, ...params })) {
    setStatus(t("Not connected: nothing was done. Please try again in a moment."));
    return;
  }
  state.actions.set(ref, what);
  setStatus(interpolate(t("Working: %s…"), [what]));
}

function ask(action, { alias = "", about = "", params = {}, what }) {
  const spec = DIALOGS[action];
  const opener = document.activeElement ? focusKey(document.activeElement) : null;
  state.dialog = { action, params, what, fields: spec.fields, opener };
  els.dialogTitle.textContent = interpolate(spec.title(), [alias]);
  els.dialogAbout.textContent = about;
  els.dialogAbout.hidden = !about;
  els.dialogHelp.textContent = spec.help();
  els.dialogConfirm.textContent = spec.confirm();
  for (const [name, field] of Object.entries(els.fields)) field.hidden = !spec.fields.includes(name);
  els.reason.value = "";
  els.dialog.returnValue = "";
  els.dialog.showModal();
}

function dialogClosed() {
  const pending = state.dialog;
  state.dialog = null;
  if (pending && (!document.activeElement || document.activeElement === document.body)) {
    refocus(pending.opener); // the list behind may have been redrawn meanwhile
  }
  if (!pending || els.dialog.returnValue !== "confirm") return;
  const params = { ...pending.params };
  if (pending.fields.includes("reason")) params.reason = els.reason.value.trim();
  if (pending.fields.includes("minutes")) params.minutes = Number(els.minutes.value);
  if (pending.fields.includes("cooldown")) params.cooldown_minutes = Number(els.cooldown.value);
  if (pending.fields.includes("ban") && els.banMinutes.value) params.minutes = Number(els.banMinutes.value);
  moderate(pending.action, params, pending.what);
}

// --- the conversation ------------------------------------------------------------------------
function reportsFor(messageId) {
  return state.reports.filter((report) => report.message_id === messageId);
}

function drawMessage(message, li) {
  renderMessage(message, { li, mine: Boolean(state.me) && message.alias === state.me.alias });
  li.id = `message-${message.id}`;
  li.tabIndex = -1;
  li.classList.toggle("crisis", state.crisis.has(message.id));
  const actions = el("div", { class: "msg-actions" },
    el("button", {
      type: "button", class: "small", text: t("Delete…"),
      "aria-label": interpolate(t("Delete the message from %s"), [message.alias]),
      onclick: () => ask("message.delete", {
        about: `${message.alias}: ${message.body}`, params: { message_id: message.id },
        what: interpolate(t("delete a message from %s"), [message.alias]),
      }),
    }),
    el("button", {
      type: "button", class: "small", text: t("Pin"),
      "aria-label": interpolate(t("Pin the message from %s"), [message.alias]),
      onclick: () => moderate("message.pin", { message_id: message.id }, t("pin a message")),
    }));
  const reports = reportsFor(message.id);
  if (reports.length) {
    li.classList.add("reported");
    actions.append(el("a", {
      href: `#report-${reports[0].id}`, class: "queue-link",
      text: interpolate(ngettext("%s report in the queue", "%s reports in the queue", reports.length), [reports.length]),
    }));
  }
  li.append(actions);
  return li;
}

function addMessage(message) {
  const known = state.byId.get(message.id);
  if (known) {
    known.message = message;
    drawMessage(message, known.li);
  } else {
    const li = drawMessage(message, document.createElement("li"));
    els.messages.append(li);
    state.byId.set(message.id, { message, li });
    li.scrollIntoView({ block: "end" });
  }
  state.lastId = Math.max(state.lastId, message.id);
}

function redrawMessages() {
  keepFocus(els.messages, () => {
    for (const { message, li } of state.byId.values()) drawMessage(message, li);
  });
}

// --- the circle's controls -------------------------------------------------------------------
function renderRoom(room) {
  state.room = room;
  const flags = [
    room.is_open ? t("open") : t("closed"),
    labelOf("access_modes", room.access),
  ];
  if (room.locked) flags.push(t("locked: no new arrivals"));
  if (room.paused) flags.push(t("paused: participants can only read"));
  if (room.slow_mode_seconds) flags.push(interpolate(t("slow mode: %s s"), [room.slow_mode_seconds]));
  els.roomFlags.replaceChildren(...flags.map((flag) => el("li", { class: "tag", text: flag })));
  els.toggleOpen.textContent = room.is_open ? t("Close the circle") : t("Open the circle");
  els.toggleLock.textContent = room.locked ? t("Unlock") : t("Lock: no new arrivals");
  els.toggleLock.setAttribute("aria-pressed", String(room.locked));
  els.togglePause.textContent = room.paused ? t("Resume the chat") : t("Pause the chat");
  els.togglePause.setAttribute("aria-pressed", String(room.paused));
  if (document.activeElement !== els.slowSeconds) els.slowSeconds.value = String(room.slow_mode_seconds);
  renderPinned(els.pinned, room.pinned);
  els.unpin.hidden = !room.pinned;
}

// --- people ------------------------------------------------------------------------------
function personOrder(a, b) {
  const rank = (p) => (p.waiting ? 0 : p.present ? 1 : 2);
  return rank(a) - rank(b) || a.alias.localeCompare(b.alias);
}

function personButton(text, name, alias, onclick, kind = "") {
  return el("button", {
    type: "button", class: `small ${kind}`.trim(), text,
    "aria-label": interpolate(name, [alias]), onclick,
  });
}

function personItem(person) {
  const alias = person.alias;
  const isFac = person.role === "facilitator";
  const muted = isFuture(person.muted_until);
  const removed = isFuture(person.removed_until);
  const li = el("li", {
    class: "person" + (person.waiting ? " waiting" : "") + (person.banned ? " banned" : "")
      + (muted ? " muted" : ""),
    dataset: { alias },
  });
  const head = el("div", { class: "person-head" }, el("strong", { class: "alias", dir: "auto", text: alias }));
  if (isFac) head.append(" ", el("span", { class: "badge", text: t("facilitator") }));
  const tags = el("ul", { class: "tags" });
  const tag = (text, kind) => tags.append(el("li", { class: `tag ${kind}`, text }));
  if (person.waiting) tag(t("waiting to be let in"), "waiting");
  else if (person.present) tag(t("present"), "present");
  else tag(t("not connected"), "away");
  if (muted) {
    tag(interpolate(t("muted until %s (%s left)"), [clockTime(person.muted_until), timeLeft(person.muted_until)]), "muted");
  }
  if (removed) tag(interpolate(t("removed until %s"), [clockTime(person.removed_until)]), "removed");
  if (person.banned) {
    tag(person.banned_until
      ? interpolate(t("banned until %s"), [new Date(person.banned_until).toLocaleString(document.documentElement.lang)])
      : t("banned, no end"), "banned");
  }
  if (person.warnings) {
    tag(interpolate(ngettext("%s warning", "%s warnings", person.warnings), [person.warnings]), "warned");
  }
  for (const [rule, count] of Object.entries(person.breaches || {})) {
    tag(interpolate(t("broke a house rule (%s): %s×"), [label(RULE_LABELS, rule), count]), "breach");
  }
  li.append(head, tags);
  if (isFac) return li;

  const actions = el("div", { class: "person-actions" });
  const what = (verb) => interpolate(verb, [alias]);
  if (!person.waiting && !person.banned) {
    actions.append(personButton(t("Private conversation"), t("Private conversation with %s"), alias,
      () => board.open({ alias }), "primary"));
  }
  if (person.waiting) {
    actions.append(
      personButton(t("Admit"), t("Admit %s"), alias,
        () => moderate("member.admit", { alias }, what(t("admit %s"))), "primary"),
      personButton(t("Decline…"), t("Decline %s"), alias,
        () => ask("member.decline", { alias, params: { alias }, what: what(t("decline %s")) })));
  }
  if (!person.banned) {
    actions.append(personButton(t("Warn…"), t("Warn %s"), alias,
      () => ask("member.warn", { alias, params: { alias }, what: what(t("warn %s")) })));
    actions.append(muted
      ? personButton(t("Unmute"), t("Unmute %s"), alias,
        () => moderate("member.unmute", { alias }, what(t("unmute %s"))))
      : personButton(t("Mute…"), t("Mute %s"), alias,
        () => ask("member.mute", { alias, params: { alias }, what: what(t("mute %s")) })));
    if (!removed) {
      actions.append(personButton(t("Remove…"), t("Remove %s from the session"), alias,
        () => ask("member.remove", { alias, params: { alias }, what: what(t("remove %s")) })));
    }
    actions.append(personButton(t("Ban…"), t("Ban %s"), alias,
      () => ask("member.ban", { alias, params: { alias }, what: what(t("ban %s")) }), "danger"));
  }
  if (person.banned || removed) {
    actions.append(personButton(person.banned ? t("Lift the ban") : t("Let back in now"),
      person.banned ? t("Lift the ban on %s") : t("Let %s back in now"), alias,
      () => moderate("member.unban", { alias }, what(t("let %s back in")))));
  }
  li.append(actions);
  return li;
}

function renderPeople() {
  const people = [...state.people].sort(personOrder);
  keepFocus(els.people, () => els.people.replaceChildren(...people.map(personItem)));
  els.peopleCount.textContent = String(people.filter((p) => p.present).length);
}

// --- reports and alerts ------------------------------------------------------------------------
function reportItem(report) {
  const li = el("li", { id: `report-${report.id}`, class: `report source-${report.source}`, tabindex: "-1" });
  li.append(el("p", { class: "report-head" },
    el("strong", { text: labelOf("report_sources", report.source) }),
    report.source === "participant" ? ` · ${labelOf("report_reasons", report.reason)}` : "",
    " · ", el("time", { datetime: report.created_at, text: clockTime(report.created_at) })));
  if (report.alias) {
    li.append(el("p", {}, t("About:") + " ", el("strong", { dir: "auto", text: report.alias })));
  }
  if (report.reporter) {
    li.append(el("p", { class: "meta" }, t("Reported by:") + " ", el("span", { dir: "auto", text: report.reporter })));
  }
  if (report.text) li.append(el("blockquote", { dir: "auto", text: report.text }));
  else if (report.expired) li.append(el("p", { class: "meta", text: t("Message expired: its text is no longer kept.") }));
  if (report.message_id && state.byId.has(report.message_id)) {
    li.append(el("p", {}, el("a", { href: `#message-${report.message_id}`, text: t("Show the message in the conversation") })));
  } else if (report.message_id) {
    li.append(el("p", { class: "meta", text: t("The message is no longer in the conversation.") }));
  }
  const who = report.alias || t("someone");
  const privately = report.alias && DESK_SOURCES.has(report.source)
    ? el("button", {
      type: "button", class: "small", text: t("Private conversation"),
      "aria-label": interpolate(t("Private conversation with %s"), [report.alias]),
      onclick: () => board.open({ report_id: report.id }),
    }) : null;
  li.append(el("div", { class: "button-row" }, privately,
    el("button", {
      type: "button", class: "small primary", text: t("Action taken"),
      "aria-label": interpolate(t("Resolve the report about %s: action taken"), [who]),
      onclick: () => moderate("report.resolve", { report_id: report.id, outcome: "actioned" }, t("resolve a report")),
    }),
    el("button", {
      type: "button", class: "small", text: t("Dismiss"),
      "aria-label": interpolate(t("Dismiss the report about %s"), [who]),
      onclick: () => moderate("report.resolve", { report_id: report.id, outcome: "dismissed" }, t("dismiss a report")),
    })));
  return li;
}

function renderReports() {
  keepFocus(els.reports, () => {
    els.reports.replaceChildren(...state.reports.map(reportItem));
    if (!state.reports.length) els.reports.append(el("li", { class: "empty", text: t("Nothing waiting.") }));
  });
  els.reportCount.textContent = String(state.reports.length);
}

function addAlert(text, reportId, alias = "") {
  const li = el("li", { class: "alert-item" }, el("span", { dir: "auto", text }));
  if (reportId) li.append(" ", el("a", { href: `#report-${reportId}`, text: t("See the queue") }));
  if (reportId && alias) {
    li.append(" ", el("button", {
      type: "button", class: "small primary", text: t("Private conversation"),
      "aria-label": interpolate(t("Private conversation with %s"), [alias]),
      onclick: () => board.open({ report_id: reportId }),
    }));
  }
  li.append(" ", el("button", { type: "button", class: "small", text: t("Close"), onclick: () => li.remove() }));
  els.alerts.prepend(li);
  while (els.alerts.children.length > MAX_ALERTS) els.alerts.lastElementChild.remove();
}

// --- audit and side channel ------------------------------------------------------------------
function renderAudit(entries) {
  els.audit.replaceChildren(...entries.map((entry) => {
    const li = el("li", {},
      el("time", { datetime: entry.created_at, title: new Date(entry.created_at).toLocaleString(document.documentElement.lang), text: clockTime(entry.created_at) }),
      " ", el("strong", { text: PROTOCOL.audit_kinds[entry.kind] ?? entry.label }),
      " · ", interpolate(t("by %s"), [entry.by]));
    if (entry.alias) li.append(" → ", el("span", { dir: "auto", text: entry.alias }));
    if (entry.detail) li.append(` · ${entry.detail}`);
    if (entry.reason) li.append(" · ", el("q", { dir: "auto", text: entry.reason }));
    return li;
  }));
  if (!entries.length) els.audit.append(el("li", { class: "empty", text: t("No actions yet.") }));
}

function addStaffMessage(frame) {
  const li = el("li", {},
    el("span", { class: "alias", dir: "auto", text: frame.alias }), " ",
    el("time", { datetime: frame.created_at, text: clockTime(frame.created_at) }),
    el("p", { class: "body", dir: "auto", text: frame.body }));
  els.staffMessages.append(li);
  li.scrollIntoView({ block: "nearest" });
}

// --- frames from the server ---------------------------------------------------------------
const handlers = {
  welcome(frame) {
    state.me = frame.you;
    els.rulesText.textContent = frame.rules.text;
    renderRoom(frame.room);
    if (!frame.rules.accepted) {
      show("rules");
      setStatus(t("Please read and accept the house rules, as everyone in the circle does."));
      return;
    }
    show("board");
    if (!frame.joined) return;
    setStatus(interpolate(t("Connected as %s."), [frame.you.alias]));
    for (const message of frame.history) addMessage(message);
    live.send({ type: "support.sync" }); // this circle's private conversations, with messages
  },
  console(frame) {
    renderRoom(frame.room);
    state.people = frame.people;
    state.reports = frame.reports;
    renderPeople();
    renderReports();
    renderAudit(frame.audit);
    redrawMessages();
  },
  "room.state"(frame) {
    renderRoom(frame.room);
  },
  you(frame) {
    state.me = frame.you;
  },
  "message.new"(frame) {
    addMessage(frame.message);
  },
  "message.deleted"(frame) {
    for (const id of frame.ids) {
      state.byId.get(id)?.li.remove();
      state.byId.delete(id);
    }
  },
  "message.ack"(frame) {
    state.sends.delete(frame.client_id);
  },
  "moderate.ack"(frame) {
    const what = state.actions.get(frame.ref);
    state.actions.delete(frame.ref);
    setStatus(what ? interpolate(t("Done: %s."), [what]) : t("Done."));
  },
  "crisis.alert"(frame) {
    state.crisis.add(frame.message_id);
    const known = state.byId.get(frame.message_id);
    if (known) known.li.classList.add("crisis");
    addAlert(interpolate(t("%s may be in crisis. Consider reaching out to them privately."), [frame.alias]), frame.report_id, frame.alias);
  },
  "help.alert"(frame) {
    addAlert(interpolate(t("%s pressed “I need help now”."), [frame.alias]), frame.report_id, frame.alias);
  },
  "support.state": (frame) => board.handle(frame),
  "support.opened": (frame) => board.handle(frame),
  "support.message": (frame) => board.handle(frame),
  "support.ended": (frame) => board.handle(frame),
  "duty.ack"(frame) {
    if (frame.request !== "support.sync" && !board.acked(frame)) setStatus(t("Done."));
  },
  "report.new"(frame) {
    addAlert(interpolate(t("New report about %s."), [frame.report.alias]), frame.report.id);
  },
  "staff.message"(frame) {
    addStaffMessage(frame);
  },
  "session.ended"(frame) {
    els.endedText.textContent = frame.detail;
  },
  presence() {},
  typing() {},
  notice(frame) {
    setStatus(frame.detail);
  },
  error(frame) {
    if (board.failed(frame)) return;
    if (frame.ref && state.actions.has(frame.ref)) {
      const what = state.actions.get(frame.ref);
      state.actions.delete(frame.ref);
      setStatus(interpolate(t("Could not %s: %s"), [what, frame.detail]));
      return;
    }
    state.sends.delete(frame.ref);
    setStatus(frame.detail);
  },
  pong() {},
};

function onClose(event) {
  if (event.code === CLOSE.SESSION_ENDED) {
    if (!els.endedText.textContent) els.endedText.textContent = closeReason(event.code);
    show("ended");
    setStatus(els.endedText.textContent);
    els.reconnect.focus();
    return false;
  }
  if (FINAL_CLOSES.has(event.code)) {
    setStatus(event.code === CLOSE.NOT_AUTHENTICATED
      ? t("You are signed out. Sign in again to use the console.") : closeReason(event.code));
    return false;
  }
  return true;
}

// --- user actions -------------------------------------------------------------------------
els.rulesAccept.addEventListener("click", () => live.send({ type: "rules.accept" }));
els.reconnect.addEventListener("click", () => {
  els.endedText.textContent = "";
  state.byId.clear();
  els.messages.replaceChildren();
  state.lastId = 0;
  live.connect();
});
els.toggleOpen.addEventListener("click", () => {
  const on = !state.room?.is_open;
  moderate("room.open", { on }, on ? t("open the circle") : t("close the circle"));
});
els.toggleLock.addEventListener("click", () => {
  const on = !state.room?.locked;
  moderate("room.lock", { on }, on ? t("lock the circle") : t("unlock the circle"));
});
els.togglePause.addEventListener("click", () => {
  const on = !state.room?.paused;
  moderate("room.pause", { on }, on ? t("pause the chat") : t("resume the chat"));
});
els.slowForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const seconds = Math.max(0, Math.min(PROTOCOL.limits.MAX_SLOW_MODE_SECONDS,
    Math.round(Number(els.slowSeconds.value) || 0)));
  moderate("room.slow_mode", { seconds }, t("set slow mode"));
});
els.unpin.addEventListener("click", () => moderate("message.pin", { message_id: null }, t("unpin")));
els.announceForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const body = els.announceInput.value.trim();
  if (!body) return;
  moderate("announce", { body }, t("announce and pin"));
  els.announceInput.value = "";
});
els.endButton.addEventListener("click", () => ask("session.end", { what: t("end the session") }));
els.dialog.addEventListener("close", dialogClosed);
els.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const body = els.input.value.trim();
  if (!body) return;
  const clientId = newClientId();
  if (live.send({ type: "message.send", body, client_id: clientId })) {
    state.sends.add(clientId);
    els.input.value = "";
  } else {
    setStatus(t("Not connected: the message was not sent."));
  }
});
els.input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) els.composer.requestSubmit();
});
els.staffForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const body = els.staffInput.value.trim();
  if (!body) return;
  if (live.send({ type: "staff.say", body })) els.staffInput.value = "";
  else setStatus(t("Not connected: the note was not sent."));
});
els.staffInput.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) els.staffForm.requestSubmit();
});
setInterval(() => { if (!els.board.hidden) renderPeople(); }, REFRESH_MS);

live.connect();
