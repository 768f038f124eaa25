// Halqa browser client for one circle. Plain ES module, no build step.
// Safety: every piece of user text is put on the page with textContent, never as HTML.
// Protocol: docs/protocol.md (frames defined in rooms/protocol.py).

import {
  CLOSE, FINAL_CLOSES, LiveSocket, closeReason, el, interpolate, isFuture, newClientId,
  ngettext, renderMessage, renderPinned, t, timeLeft,
} from "./common.js";

const root = document.getElementById("room");
const slug = root.dataset.slug;
const $ = (id) => document.getElementById(id);
const els = {
  status: $("status"), join: $("join"), joinButton: $("join-button"), rules: $("rules"),
  rulesText: $("rules-text"), rulesAccept: $("rules-accept"), chat: $("chat"),
  waiting: $("waiting"), members: $("members"), memberCount: $("member-count"),
  myAlias: $("my-alias"), messages: $("messages"), typing: $("typing"), composer: $("composer"),
  input: $("message-input"), send: $("send-button"), composerState: $("composer-state"),
  rejoin: $("rejoin-button"), pinned: $("pinned"), roomState: $("room-state"),
  help: $("help-button"), hiddenBox: $("hidden-people"), hiddenList: $("hidden-list"),
  reportDialog: $("report-dialog"), reportQuote: $("report-quote"),
  reportReason: $("report-reason"), counter: $("counter"), membersBox: $("members-box"),
  leave: $("leave"),
};

const TYPING_EVERY_MS = 2000;
const JOIN_RETRY_MS = 15000;
const HIDDEN_KEY = `halqa.hidden.${slug}`;
const COUNTER_FROM = 0.8;        // the counter shows from 80 % of the circle's longest message
const RETRY_FIRST_MS = 3000;     // an `internal` refusal is sent again after 3 s, 6 s, 12 s… (≤ 60 s)
const REMOVED_RECHECK_MS = 2000; // removed: knock again quietly, to hear "let back in"

const state = {
  me: null,             // `you`: alias, role, muted_until, warnings, admission
  room: null,           // room snapshot: locked, paused, slow mode, pinned
  joined: false,
  away: false,          // was in the circle, the connection dropped: writing goes to the outbox
  ended: "",            // why the server closed this socket for good ("" while it may talk)
  lastNotice: "",       // the last removal/ban/decline/end notice: said again on close
  lastId: 0,            // highest message id seen: the resume point
  byId: new Map(),      // message id -> <li>
  // The outbox: client_id -> {body, li, retries, timer}. Sent, not yet acknowledged, or kept
  // after an `internal` refusal or a lost connection; sent again with the SAME client_id when
  // the connection is back (the server stores a client_id once, so never twice).
  pending: new Map(),
  maxLength: Number(root.dataset.maxLength) || 2000, // the circle's longest message
  removedUntil: null,   // removed from the session: when the cool-down ends (ISO)
  removedTimer: null,
  hidden: loadHidden(), // aliases hidden on this screen only
  reporting: null,      // message id being reported
  joinTimer: null,
  composerTimer: null,
  lastTyping: 0,
  typingTimer: null,
};

const live = new LiveSocket({
  slug,
  onFrame: (frame) => handlers[frame.type]?.(frame),
  onClose,
  onStatus: setStatus,
  resumeAfter: () => state.lastId,
});

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

// --- who can help now, and the private conversation (issue 10) --------------------------------
const support = { id: null };
Object.assign(els, {
  care: $("care-status"), helpState: $("help-state"), supportPanel: $("support-panel"),
  supportWith: $("support-with"), supportMessages: $("support-messages"),
  supportComposer: $("support-composer"), supportInput: $("support-input"),
  supportEnd: $("support-end"), supportRequest: $("support-request-button"),
});

/** Who can help now, true at this moment: a facilitator present (the presence list), else one
 * on duty for this circle, else nobody (and when the next facilitated session starts). */
function renderCare() {
  const care = state.room?.care;
  if (!care || !els.care) return;
  const present = (state.members || []).some((member) => member.role === "facilitator");
  let text;
  if (present) text = t("A facilitator is here in the circle now.");
  else if (care.on_duty) text = t("No facilitator is in the circle now, but one is on duty and will see a request for help.");
  else {
    text = t("No facilitator is here or on duty right now.");
    if (care.next_session) {
      text += " " + interpolate(t("The next facilitated session starts %s."),
        [new Date(care.next_session).toLocaleString(document.documentElement.lang || undefined)]);
    }
  }
  els.care.textContent = text;
  els.care.dataset.status = present ? "present" : care.on_duty ? "on_duty" : "none";
}

/** What became of a request for help, as the server said it: nothing more. */
function setHelpState(frame) {
  let text = frame.detail;
  if (frame.help_state === "waiting") text = t("No facilitator has seen this yet.");
  els.helpState.textContent = text;
  els.helpState.dataset.state = frame.help_state;
  els.helpState.hidden = false;
}

function addSupportMessage(message) {
  const li = el("li", { class: `message${message.role === "facilitator" ? " facilitator" : " mine"}` },
    el("p", { class: "meta", dir: "auto", text: message.alias }));
  if (message.body) li.append(el("p", { class: "body", dir: "auto", text: message.body }));
  if (message.resource) {
    const card = el("p", { class: "support-card" }, el("strong", { dir: "auto", text: message.resource.name }));
    if (message.resource.phone) {
      card.append(" · ", el("a", { class: "phone", dir: "ltr", href: `tel:${message.resource.phone.replace(/[^0-9+]/g, "")}`, text: message.resource.phone }));
    }
    if (message.resource.url) card.append(" · ", el("a", { href: message.resource.url, rel: "noopener", text: message.resource.url }));
    li.append(card);
  }
  els.supportMessages.append(li);
  li.scrollIntoView({ block: "end" });
}

function openSupport(conversation) {
  const first = support.id !== conversation.id;
  support.id = conversation.id;
  els.supportPanel.hidden = false;
  els.supportComposer.hidden = false;
  els.supportEnd.hidden = false;
  els.supportRequest.hidden = true;
  els.supportWith.replaceChildren(...fill(t("With %s, facilitator"), isolated(conversation.facilitator)));
  if (first) {
    // Its earlier messages are not read out; each new one is, once (the panel's polite log).
    drawQuietly(() => {
      els.supportMessages.replaceChildren();
      for (const message of conversation.messages) addSupportMessage(message);
    }, els.supportMessages.parentElement);
  }
}

els.supportComposer?.addEventListener("submit", (event) => {
  event.preventDefault();
  const body = els.supportInput.value.trim();
  if (!body || !support.id) return;
  live.send({ type: "support.send", conversation_id: support.id, body, client_id: newClientId() });
});
els.supportInput?.addEventListener("keydown", (event) => {
  // Enter sends, as in the circle's composer; Shift+Enter for a new line.
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) els.supportComposer.requestSubmit();
});
els.supportEnd?.addEventListener("click", () => {
  if (support.id) live.send({ type: "support.end", conversation_id: support.id });
});
els.supportRequest?.addEventListener("click", () => {
  if (!live.send({ type: "support.request" })) {
    setStatus(t("You are not connected. If you are in danger right now, call 15 (ambulance) or 19 (police)."));
  }
});

function setStatus(text) {
  els.status.textContent = text;
}

function show(panel) {
  for (const name of ["join", "rules", "waiting", "chat"]) els[name].hidden = name !== panel;
  // The conversation fills the screen, its composer at the foot (halqa.css, body.in-chat).
  document.body.classList.toggle("in-chat", panel === "chat");
}

const isMe = (alias) => Boolean(state.me) && alias === state.me.alias;
const isFacilitator = () => state.me?.role === "facilitator";

// --- hiding someone's messages, on this screen only ------------------------------------------
function loadHidden() {
  try {
    const stored = JSON.parse(localStorage.getItem(HIDDEN_KEY) || "[]");
    return new Set(Array.isArray(stored) ? stored.filter((a) => typeof a === "string") : []);
  } catch {
    return new Set();
  }
}

function saveHidden() {
  try { localStorage.setItem(HIDDEN_KEY, JSON.stringify([...state.hidden])); } catch { /* private mode */ }
}

function setHidden(alias, hide) {
  if (hide) state.hidden.add(alias); else state.hidden.delete(alias);
  saveHidden();
  for (const li of els.messages.querySelectorAll("li.message")) {
    if (li.dataset.alias === alias) li.hidden = hide;
  }
  renderHiddenList();
  setStatus(interpolate(hide ? t("Messages from %s are hidden on your screen only.")
    : t("Messages from %s are shown again."), [iso(alias)]));
}

function renderHiddenList() {
  els.hiddenBox.hidden = state.hidden.size === 0;
  els.hiddenList.replaceChildren(...[...state.hidden].sort().map((alias) => el("li", {},
    el("span", { dir: "auto", text: alias }), " ",
    el("button", {
      type: "button", class: "small", text: t("Show again"),
      "aria-label": interpolate(t("Show messages from %s again"), [alias]),
      onclick: () => setHidden(alias, false),
    }))));
}

// --- rendering ------------------------------------------------------------------------------
/**
 * A translated sentence with "%s" filled by nodes (user text in <bdi>), never glued as strings:
 * each piece keeps its own direction whatever the page's.
 */
function fill(format, ...nodes) {
  const parts = format.split("%s");
  const out = [];
  parts.forEach((part, i) => {
    if (part) out.push(part);
    if (i < parts.length - 1) out.push(nodes[i] ?? "");
  });
  return out;
}

const isolated = (text) => el("bdi", { dir: "auto", text });
/** User text inside a plain-text sentence: Unicode isolates (FSI … PDI) keep its direction. */
const iso = (text) => `\u2068${text}\u2069`;

/**
 * Report and Hide this person, behind one small control per message: a disclosure
 * (<details>/<summary>), reached with Tab and named for screen readers after the author.
 */
function messageMenu(message) {
  const close = () => { menu.open = false; };
  const actions = el("div", { class: "msg-actions" },
    el("button", {
      type: "button", class: "small", text: t("Report"),
      "aria-label": interpolate(t("Report this message from %s"), [message.alias]),
      onclick: () => { close(); openReport(message); },
    }));
  if (message.role !== "facilitator") {
    actions.append(el("button", {
      type: "button", class: "small", text: t("Hide this person"),
      "aria-label": interpolate(t("Hide messages from %s on my screen"), [message.alias]),
      onclick: () => { close(); setHidden(message.alias, true); },
    }));
  }
  const menu = el("details", { class: "msg-menu" },
    el("summary", {},
      el("span", { "aria-hidden": "true", text: "⋯" }),
      el("span", { class: "visually-hidden",
                   text: interpolate(t("Actions for this message from %s"), [message.alias]) })),
    actions);
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open) {
      close();
      menu.querySelector("summary").focus();
    }
  });
  return menu;
}

function drawMessage(message, li) {
  renderMessage(message, { li, mine: isMe(message.alias) });
  if (message.id && !isMe(message.alias)) li.querySelector(".meta").append(messageMenu(message));
  li.hidden = state.hidden.has(message.alias);
  return li;
}

function addMessage(message) {
  const existing = state.byId.get(message.id);
  if (existing) {
    drawMessage(message, existing); // our own pending bubble: show the stored text
    existing.classList.remove("pending");
  } else {
    const li = drawMessage(message, document.createElement("li"));
    els.messages.append(li);
    state.byId.set(message.id, li);
    if (!li.hidden) li.scrollIntoView({ block: "end" });
  }
  state.lastId = Math.max(state.lastId, message.id);
}

/**
 * Draw the history without it being read out: the log is silent (aria-live off, aria-busy) while
 * the history goes in, and speaks again only a frame later, once the browser has taken it in;
 * switched back in the same task, every message of the history would count as new.
 */
let quietRound = 0;
function drawQuietly(draw, log = $("message-log")) {
  const round = String(++quietRound);
  log.dataset.quietRound = round;
  log.setAttribute("aria-busy", "true");
  log.setAttribute("aria-live", "off");
  draw();
  const speak = () => {
    if (round !== log.dataset.quietRound || log.getAttribute("aria-live") === "polite") return;
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-busy", "false");
  };
  requestAnimationFrame(() => requestAnimationFrame(speak));
  setTimeout(speak, 500); // a hidden tab draws no frames
}

/** Change the conversation; if it was scrolled to its end, it stays at its end. */
function atTheEnd(change) {
  const list = els.messages;
  const end = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  change();
  if (end) list.scrollTop = list.scrollHeight;
}

/** A line in the conversation that is not a message: text, or nodes built with fill(). */
function addNote(content, kind = "notice") {
  const li = el("li", { class: `note ${kind}` }, ...(Array.isArray(content) ? content : [content]));
  els.messages.append(li);
  li.scrollIntoView({ block: "end" });
  return li;
}

/** A notice's text and, apart and isolated, the reason a facilitator gave. */
function noticeContent(frame) {
  const content = [frame.detail];
  if (frame.reason) content.push(" ", ...fill(t("Reason: %s"), isolated(frame.reason)));
  return content;
}

function addSupportCard(frame) {
  const list = el("ul");
  for (const resource of frame.resources) {
    // Names and hours in their own direction (bidi isolation): "Police — الشرطة" stays whole.
    const item = el("li", {}, el("strong", { dir: "auto", text: resource.name }));
    if (resource.phone) {
      item.append(" · ", el("a", { class: "phone", dir: "ltr", href: `tel:${resource.phone.replace(/[^0-9+]/g, "")}`, text: resource.phone }));
    }
    if (resource.hours) item.append(" · ", el("span", { dir: "auto", text: resource.hours }));
    list.append(item);
  }
  // A list item of the conversation (axe: an <ol> holds only <li>s, no role="note" on them).
  const li = el("li", { class: "note support-card" }, el("p", { text: frame.detail }), list);
  els.messages.append(li);
  li.scrollIntoView({ block: "end" });
}

function renderMembers(members) {
  els.members.replaceChildren(...members.map((member) => el("li", {
    dir: "auto", text: member.alias, class: member.role === "facilitator" ? "facilitator" : null,
  })));
  els.memberCount.textContent = String(members.length);
}

function renderRoomState(room) {
  state.room = room;
  renderCare();
  if (room.max_message_length) state.maxLength = room.max_message_length;
  updateCounter();
  renderPinned(els.pinned, room.pinned);
  const lines = [];
  if (!room.is_open) lines.push(t("This circle is closed at the moment."));
  if (room.paused) lines.push(t("The facilitators paused the chat for a moment. You can still read."));
  if (room.locked) lines.push(t("The circle is locked: no new arrivals for now."));
  if (room.slow_mode_seconds) {
    lines.push(interpolate(t("Slow mode: one message every %s seconds per person."), [room.slow_mode_seconds]));
  }
  els.roomState.replaceChildren(...lines.map((line) => el("li", { text: line })));
  els.roomState.hidden = lines.length === 0;
  updateComposer();
}

/** Removed from the session: one sentence with the time left, redrawn as it runs down. */
function removedText() {
  return interpolate(t("A facilitator asked you to leave this session. You can come back in %s."),
    [timeLeft(state.removedUntil)]);
}

/** Who may write now: not muted, not paused (facilitators always can), and still connected. */
function updateComposer() {
  clearTimeout(state.composerTimer);
  let why = state.ended;
  if (isFuture(state.removedUntil)) {
    why = removedText();
    const untilEnd = Date.parse(state.removedUntil) - Date.now();
    state.composerTimer = setTimeout(updateComposer, Math.max(250, Math.min(15000, untilEnd + 250)));
  }
  const mutedUntil = state.me?.muted_until;
  const muted = !isFacilitator() && isFuture(mutedUntil);
  if (!why && muted) {
    why = interpolate(t("A facilitator muted you. You can read, and write again in %s."), [timeLeft(mutedUntil)]);
    // Redraw the time left, and re-enable the composer the moment the mute ends.
    const untilEnd = Date.parse(mutedUntil) - Date.now();
    state.composerTimer = setTimeout(updateComposer, Math.max(250, Math.min(15000, untilEnd + 250)));
  } else if (!why && state.room?.paused && !isFacilitator()) {
    why = t("The chat is paused: you can read, and write again when a facilitator resumes it.");
  }
  const disabled = Boolean(why) || !(state.joined || state.away);
  els.input.disabled = disabled;
  els.send.disabled = disabled;
  els.composer.classList.toggle("disabled", disabled);
  els.composerState.textContent = why;
  els.composerState.hidden = !why;
}

// --- the outbox: nothing typed is lost -------------------------------------------------------
/** What a message waiting in the outbox says under it, with its retry control. */
function outboxMark(clientId, text) {
  const pending = state.pending.get(clientId);
  if (!pending) return;
  pending.li.querySelector(".outbox")?.remove();
  pending.li.classList.add("pending");
  atTheEnd(() => pending.li.append(el("div", { class: "outbox" },
    el("p", { class: "why", text }),
    el("div", { class: "outbox-actions" },
      el("button", {
        type: "button", class: "small", text: t("Send again now"),
        onclick: () => retryNow(clientId),
      })))));
}

function outboxClear(clientId) {
  const pending = state.pending.get(clientId);
  if (!pending) return;
  clearTimeout(pending.timer);
  pending.li.querySelector(".outbox")?.remove();
  state.pending.delete(clientId);
}

/** Send one outbox message, always with its own client_id: false when not connected. */
function sendPending(clientId) {
  const pending = state.pending.get(clientId);
  if (!pending) return false;
  clearTimeout(pending.timer);
  return live.send({ type: "message.send", body: pending.body, client_id: clientId });
}

/** After an `internal` refusal: again later by itself, 3 s, 6 s, 12 s… (at most every 60 s). */
function retryLater(clientId) {
  const pending = state.pending.get(clientId);
  if (!pending) return;
  const delay = Math.min(60000, RETRY_FIRST_MS * 2 ** pending.retries);
  pending.retries += 1;
  clearTimeout(pending.timer);
  pending.timer = setTimeout(() => {
    if (!sendPending(clientId)) outboxMark(clientId, t("Not sent yet: it will be sent when the connection is back."));
  }, delay);
}

function retryNow(clientId) {
  if (sendPending(clientId)) {
    state.pending.get(clientId)?.li.querySelector(".outbox")?.remove();
    return;
  }
  if (!live.open) live.connect(); // no waiting for the next try of the backoff
  outboxMark(clientId, t("Not connected yet: your message will be sent as soon as the connection is back."));
}

/** Back in the circle (a welcome with joined): everything still in the outbox goes again. */
function resendPending() {
  for (const clientId of state.pending.keys()) {
    if (sendPending(clientId)) state.pending.get(clientId)?.li.querySelector(".outbox")?.remove();
  }
}

/** A refused message comes back to the text box (when the box is empty) so nothing is lost. */
function giveBack(body) {
  if (els.input.value.trim()) return false;
  els.input.value = body;
  updateCounter();
  return true;
}

// --- the counter: the circle's longest message, shown as the limit comes near ---------------
const charCount = (text) => [...text.trim()].length; // code points, as the server counts

function updateCounter() {
  if (!els.counter) return;
  const used = charCount(els.input.value);
  const max = state.maxLength;
  const over = used > max;
  els.counter.classList.toggle("near", used >= max * COUNTER_FROM && !over);
  els.counter.classList.toggle("over", over);
  if (over) {
    els.counter.textContent = interpolate(
      ngettext("%(over)s character too many: the limit here is %(max)s.",
        "%(over)s characters too many: the limit here is %(max)s.", used - max),
      { over: used - max, max }, true);
  } else if (used >= max * COUNTER_FROM) {
    els.counter.textContent = interpolate(t("%(used)s of %(max)s characters"), { used, max }, true);
  } else {
    els.counter.textContent = "";
  }
  if (over) els.input.setAttribute("aria-invalid", "true");
  else els.input.removeAttribute("aria-invalid");
}

// --- frames from the server ---------------------------------------------------------------
const handlers = {
  welcome(frame) {
    state.me = frame.you;
    state.ended = "";
    state.joined = frame.joined;
    state.away = false;
    els.rejoin.hidden = true;
    els.myAlias.textContent = frame.you.alias;
    els.rulesText.textContent = frame.rules.text;
    renderMembers(frame.members);
    state.members = frame.members;
    renderRoomState(frame.room);
    if (!frame.rules.accepted) {
      show("rules");
      setStatus(t("Please read the house rules."));
      return;
    }
    if (frame.waiting) {
      show("waiting");
      setStatus(t("Waiting for a facilitator to let you in."));
      return;
    }
    show("chat");
    els.leave.hidden = false;
    if (!frame.joined) return;
    if (state.removedUntil) {
      state.removedUntil = null;
      clearTimeout(state.removedTimer);
    }
    setStatus(interpolate(t("You are in the circle as %s."), [iso(frame.you.alias)]));
    drawQuietly(() => {
      for (const message of frame.history) addMessage(message);
      if (frame.history_truncated) addNote(t("Some earlier messages are not shown."));
    });
    resendPending();
    // Any private conversation this alias is in comes back with its messages.
    if (!isFacilitator()) {
      els.supportRequest.hidden = support.id !== null;
      live.send({ type: "support.sync" });
    }
  },
  you(frame) {
    state.me = frame.you;
    updateComposer();
  },
  "room.state"(frame) {
    renderRoomState(frame.room);
  },
  "message.new"(frame) {
    addMessage(frame.message);
  },
  "message.deleted"(frame) {
    for (const id of frame.ids) {
      const li = state.byId.get(id);
      state.byId.delete(id);
      if (!li) continue;
      if (frame.by === "facilitator" && li.classList.contains("mine")) {
        // Its author is told, in place: the message did not just vanish.
        li.className = "message mine removed-by-staff";
        li.replaceChildren(el("p", { class: "body", text: t("A facilitator removed this message.") }));
      } else {
        li.remove();
      }
    }
  },
  "message.ack"(frame) {
    const pending = state.pending.get(frame.client_id);
    if (!pending) return;
    outboxClear(frame.client_id);
    pending.li.dataset.id = String(frame.id);
    if (!state.byId.has(frame.id)) state.byId.set(frame.id, pending.li);
    else if (state.byId.get(frame.id) !== pending.li) pending.li.remove();
  },
  presence(frame) {
    renderMembers(frame.members);
    state.members = frame.members;
    renderCare();
  },
  "support.state"(frame) {
    const open = frame.conversations.find((c) => !c.ended_at);
    if (open) openSupport(open);
  },
  "support.opened"(frame) {
    openSupport(frame.conversation);
  },
  "support.message"(frame) {
    if (frame.conversation_id === support.id) addSupportMessage(frame.message);
  },
  "support.ended"(frame) {
    if (frame.conversation_id !== support.id) return;
    support.id = null;
    els.supportMessages.append(el("li", { class: "note notice private", text: t("The private conversation has ended.") }));
    els.supportComposer.hidden = true;
    els.supportEnd.hidden = true;
    els.supportRequest.hidden = false;
  },
  "duty.ack"(frame) {
    if (frame.request === "support.send") els.supportInput.value = "";
  },
  typing(frame) {
    if (isMe(frame.alias) || state.hidden.has(frame.alias)) return;
    els.typing.textContent = interpolate(t("%s is typing…"), [iso(frame.alias)]);
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(() => { els.typing.textContent = ""; }, 3500);
  },
  notice(frame) {
    if (frame.help_state) setHelpState(frame);
    if (frame.resources) {
      addSupportCard(frame);
      return;
    }
    switch (frame.code) {
      case "muted":
        if (state.me && frame.until) state.me = { ...state.me, muted_until: frame.until };
        updateComposer();
        addNote(noticeContent(frame), "notice private important");
        break;
      case "unmuted":
        if (state.me) state.me = { ...state.me, muted_until: null };
        updateComposer();
        addNote(noticeContent(frame), "notice private");
        break;
      case "warned":
        addNote(noticeContent(frame), "notice private important");
        break;
      case "removed":
        // Said once, where the composer was, with the time left (updateComposer); the close
        // that follows adds nothing.
        state.removedUntil = frame.until || null;
        state.lastNotice = "";
        if (!isFuture(state.removedUntil)) {
          addNote(noticeContent({ ...frame, detail: closeReason(CLOSE.REMOVED) }),
            "notice private important"); // no cool-down: back in a moment, by itself
        } else if (frame.reason) {
          addNote(noticeContent({ ...frame, detail: "" }), "notice private");
        }
        updateComposer();
        break;
      case "let_back_in":
        state.removedUntil = null;
        clearTimeout(state.removedTimer);
        addNote(noticeContent(frame), "notice private important");
        setStatus(frame.detail);
        if (!state.joined) live.send({ type: "join" });
        updateComposer();
        break;
      case "banned":
      case "declined":
        state.lastNotice = frame.detail;
        if (!els.chat.hidden) addNote(noticeContent(frame), "notice private important");
        break;
      default:
        addNote(noticeContent(frame), "notice private");
    }
  },
  "session.ended"(frame) {
    state.lastNotice = frame.detail;
    if (!els.chat.hidden) addNote(frame.detail, "notice important");
  },
  "crisis.alert"(frame) {
    // Facilitators only: someone may need them now.
    addNote(fill(t("%s may be in crisis. Consider reaching out to them privately."),
      isolated(frame.alias)), "alert");
    const li = state.byId.get(frame.message_id);
    if (li) li.classList.add("crisis");
  },
  error(frame) {
    if (frame.ref && state.pending.has(frame.ref)) {
      const pending = state.pending.get(frame.ref);
      if (frame.code === "internal") {
        // Our side failed, not the message: it stays in the outbox and goes again by itself.
        outboxMark(frame.ref, t("Not sent yet: something went wrong on our side. It will be sent again in a moment."));
        retryLater(frame.ref);
        return;
      }
      outboxClear(frame.ref);
      pending.li.classList.remove("pending");
      pending.li.classList.add("failed");
      const back = giveBack(pending.body);
      atTheEnd(() => {
        pending.li.append(el("p", { class: "why", text: frame.detail }));
        if (back) {
          pending.li.append(el("p", { class: "why", text: t("Your text is back in the box.") }));
        } else {
          pending.li.append(el("div", { class: "outbox-actions" }, el("button", {
            type: "button", class: "small", text: t("Put it back in the box"),
            onclick: (event) => {
              if (giveBack(pending.body)) event.currentTarget.remove();
              else setStatus(t("Send or clear what is in the box first."));
              els.input.focus();
            },
          })));
        }
      });
      if (back) els.input.focus();
      if (frame.code === "muted" && frame.muted_until && state.me) {
        state.me = { ...state.me, muted_until: frame.muted_until };
        updateComposer();
      }
      return;
    }
    clearTimeout(state.joinTimer);
    if (frame.code === "removed") {
      // Still in the cool-down (a reload, or the quiet knock after the close): one sentence
      // with the time left, and a knock again when it ends. The socket stays open, so "let
      // back in" reaches it.
      const seconds = frame.retry_after || 60;
      state.removedUntil = new Date(Date.now() + seconds * 1000).toISOString();
      updateComposer();
      setStatus("");
      if (seconds < 86400) {
        state.joinTimer = setTimeout(() => live.send({ type: "join" }), seconds * 1000);
      }
      return;
    }
    setStatus(frame.detail);
    if (["room_full", "room_closed", "room_locked"].includes(frame.code)) {
      state.joinTimer = setTimeout(() => live.send({ type: "join" }), JOIN_RETRY_MS);
    } else if (["banned", "declined"].includes(frame.code)) {
      // Refused at the door: the socket stays open but this person cannot take part.
      state.ended = frame.detail;
      updateComposer();
    }
  },
  pong() {},
};

// --- the socket ---------------------------------------------------------------------------
function onClose(event) {
  const wasIn = state.joined || state.away;
  state.joined = false;
  state.away = false;
  if (event.code === CLOSE.NOT_AUTHENTICATED) {
    show("join");
    setStatus(closeReason(event.code));
    return false;
  }
  if (event.code === CLOSE.IDENTITY_ERASED) {
    els.messages.replaceChildren();
    state.byId.clear();
    state.pending.clear();
    show("join");
    setStatus(closeReason(event.code));
    return false;
  }
  if (event.code === CLOSE.REMOVED) {
    // Out of this session for the cool-down: its live state is not ours to show. The page
    // knocks again quietly in a moment (refused until the cool-down ends, but listening, so a
    // facilitator's "let back in" is heard), and joins by itself when the time is up.
    renderMembers([]);
    renderPinned(els.pinned, null);
    els.roomState.hidden = true;
    if (state.removedUntil === null) state.removedUntil = new Date(Date.now() + 60000).toISOString();
    updateComposer();
    setStatus("");
    clearTimeout(state.removedTimer);
    state.removedTimer = setTimeout(() => live.connect(), REMOVED_RECHECK_MS);
    return false;
  }
  if (FINAL_CLOSES.has(event.code)) {
    // Banned, declined or the session ended: say why, and do not knock again.
    state.ended = state.lastNotice || closeReason(event.code);
    state.lastNotice = "";
    // Out of the circle: its live state (who is here, the pin, the lock) is not ours to show.
    renderMembers([]);
    renderPinned(els.pinned, null);
    els.roomState.hidden = true;
    setStatus("");
    if (!els.waiting.hidden) {
      show(null); // declined at the door: only the reason stays
      setStatus(state.ended);
    }
    updateComposer();
    els.rejoin.hidden = event.code !== CLOSE.SESSION_ENDED;
    return false;
  }
  if (event.code === CLOSE.FLOODING) setStatus(t("Too many messages at once. Reconnecting soon."));
  state.away = wasIn; // what is written now waits in the outbox
  for (const [clientId, pending] of state.pending) {
    if (pending.li.querySelector(".outbox")) continue; // already says why it waits
    outboxMark(clientId, t("Not sent yet: it will be sent when the connection is back."));
  }
  updateComposer();
  return true;
}

// --- user actions -------------------------------------------------------------------------
async function joinAnonymously() {
  els.joinButton.disabled = true;
  try {
    const response = await fetch("/api/v1/identities/anonymous/", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({}),
    });
    if (!response.ok) throw new Error(String(response.status));
    live.connect();
  } catch {
    setStatus(t("Could not join just now. Please try again."));
  } finally {
    els.joinButton.disabled = false;
  }
}

function submitMessage(event) {
  event.preventDefault();
  const body = els.input.value.trim();
  if (!body || els.input.disabled) return;
  const used = charCount(body);
  if (used > state.maxLength) {
    // Refused here, before sending: the text stays in the box, the counter says how much to cut.
    updateCounter();
    setStatus(interpolate(t("Your message is too long for this circle (%(used)s characters, at most %(max)s). Please shorten it: your text is still in the box."),
      { used, max: state.maxLength }, true));
    els.input.focus();
    return;
  }
  const clientId = newClientId();
  const li = renderMessage({ id: 0, alias: state.me ? state.me.alias : "", role: "participant",
    body, created_at: new Date().toISOString() }, { mine: true });
  li.classList.add("pending");
  els.messages.append(li);
  li.scrollIntoView({ block: "end" });
  state.pending.set(clientId, { body, li, retries: 0, timer: null });
  if (!sendPending(clientId)) {
    outboxMark(clientId, t("Not sent yet: it will be sent when the connection is back."));
  }
  els.input.value = "";
  updateCounter();
  els.input.focus();
}

function onInput() {
  updateCounter();
  const now = Date.now();
  if (now - state.lastTyping > TYPING_EVERY_MS) {
    state.lastTyping = now;
    live.send({ type: "typing" });
  }
}

function openReport(message) {
  state.reporting = message.id;
  els.reportQuote.textContent = `${message.alias}: ${message.body}`;
  els.reportReason.selectedIndex = 0; // the protocol's first reason
  els.reportDialog.returnValue = "";
  els.reportDialog.showModal();
}

function reportClosed() {
  const id = state.reporting;
  state.reporting = null;
  if (els.reportDialog.returnValue !== "send" || !id) return;
  if (!live.send({ type: "report", message_id: id, reason: els.reportReason.value })) {
    setStatus(t("Not connected: the report was not sent. Please try again in a moment."));
  }
}

function askForHelp() {
  if (live.send({ type: "help.request" })) {
    setStatus(t("Your request was sent to the facilitators privately."));
  } else {
    setStatus(t("You are not connected. If you are in danger right now, call 15 (ambulance) or 19 (police)."));
  }
}

els.joinButton.addEventListener("click", joinAnonymously);
els.rulesAccept.addEventListener("click", () => live.send({ type: "rules.accept" }));
els.composer.addEventListener("submit", submitMessage);
els.input.addEventListener("input", onInput);
els.input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault(); // Enter sends; it adds no line break to a text kept in the box
    els.composer.requestSubmit();
  }
});
els.reportDialog.addEventListener("close", reportClosed);
els.help.addEventListener("click", askForHelp);
els.rejoin.addEventListener("click", () => {
  els.rejoin.hidden = true;
  live.connect();
});
// Leaving: the connection closes now (the others see one person fewer at once), then the page
// goes back to the circles (where the form leads).
els.leave.addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(state.joinTimer);
  clearTimeout(state.removedTimer);
  live.close();
  window.location.assign(els.leave.action);
});
// Who is present: folded on a phone, open beside the conversation on a wide screen.
if (window.matchMedia("(min-width: 48rem)").matches) els.membersBox.open = true;
renderHiddenList();
updateCounter();

if (root.dataset.door === "application") {
  // A circle by application, and no invitation yet: the page shows its sessions and the form.
  show(null);
} else if (root.dataset.authenticated === "1") {
  live.connect();
} else {
  show("join");
}
