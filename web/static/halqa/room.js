// Halqa browser client for one circle. Plain ES module, no build step.
// Safety: every piece of user text is put on the page with textContent, never as HTML.
// Protocol: docs/protocol.md (frames defined in rooms/protocol.py).

import {
  CLOSE, FINAL_CLOSES, LiveSocket, closeReason, el, interpolate, isFuture, newClientId,
  renderMessage, renderPinned, t, timeLeft,
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
  reportReason: $("report-reason"),
};

const TYPING_EVERY_MS = 2000;
const JOIN_RETRY_MS = 15000;
const HIDDEN_KEY = `halqa.hidden.${slug}`;

const state = {
  me: null,             // `you`: alias, role, muted_until, warnings, admission
  room: null,           // room snapshot: locked, paused, slow mode, pinned
  joined: false,
  ended: "",            // why the server closed this socket for good ("" while it may talk)
  lastNotice: "",       // the last removal/ban/decline/end notice: said again on close
  lastId: 0,            // highest message id seen: the resume point
  byId: new Map(),      // message id -> <li>
  pending: new Map(),   // client_id -> {body, li}; resent after a reconnect
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

function setStatus(text) {
  els.status.textContent = text;
}

function show(panel) {
  for (const name of ["join", "rules", "waiting", "chat"]) els[name].hidden = name !== panel;
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
    : t("Messages from %s are shown again."), [alias]));
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
function messageActions(message) {
  const actions = el("div", { class: "msg-actions" },
    el("button", {
      type: "button", class: "small", text: t("Report"),
      "aria-label": interpolate(t("Report this message from %s"), [message.alias]),
      onclick: () => openReport(message),
    }));
  if (message.role !== "facilitator") {
    actions.append(el("button", {
      type: "button", class: "small", text: t("Hide this person"),
      "aria-label": interpolate(t("Hide messages from %s on my screen"), [message.alias]),
      onclick: () => setHidden(message.alias, true),
    }));
  }
  return actions;
}

function drawMessage(message, li) {
  renderMessage(message, { li, mine: isMe(message.alias) });
  if (message.id && !isMe(message.alias)) li.append(messageActions(message));
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
function drawQuietly(draw) {
  const log = $("message-log");
  const round = ++quietRound;
  log.setAttribute("aria-busy", "true");
  log.setAttribute("aria-live", "off");
  draw();
  const speak = () => {
    if (round !== quietRound || log.getAttribute("aria-live") === "polite") return;
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-busy", "false");
  };
  requestAnimationFrame(() => requestAnimationFrame(speak));
  setTimeout(speak, 500); // a hidden tab draws no frames
}

function addNote(text, kind = "notice") {
  const li = el("li", { class: `note ${kind}`, text });
  els.messages.append(li);
  li.scrollIntoView({ block: "end" });
}

function addSupportCard(frame) {
  const list = el("ul");
  for (const resource of frame.resources) {
    const item = el("li", {}, el("strong", { text: resource.name }));
    if (resource.phone) {
      item.append(" · ", el("a", { href: `tel:${resource.phone.replace(/[^0-9+]/g, "")}`, text: resource.phone }));
    }
    if (resource.hours) item.append(` · ${resource.hours}`);
    list.append(item);
  }
  const li = el("li", { class: "note support-card", role: "note" }, el("p", { text: frame.detail }), list);
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

/** Who may write now: not muted, not paused (facilitators always can), and still connected. */
function updateComposer() {
  clearTimeout(state.composerTimer);
  let why = state.ended;
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
  const disabled = Boolean(why) || !state.joined;
  els.input.disabled = disabled;
  els.send.disabled = disabled;
  els.composer.classList.toggle("disabled", disabled);
  els.composerState.textContent = why;
  els.composerState.hidden = !why;
}

// --- frames from the server ---------------------------------------------------------------
const handlers = {
  welcome(frame) {
    state.me = frame.you;
    state.ended = "";
    state.joined = frame.joined;
    els.rejoin.hidden = true;
    els.myAlias.textContent = frame.you.alias;
    els.rulesText.textContent = frame.rules.text;
    renderMembers(frame.members);
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
    if (!frame.joined) return;
    setStatus(interpolate(t("You are in the circle as %s."), [frame.you.alias]));
    drawQuietly(() => {
      for (const message of frame.history) addMessage(message);
      if (frame.history_truncated) addNote(t("Some earlier messages are not shown."));
    });
    resendPending();
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
      if (li) li.remove();
      state.byId.delete(id);
    }
  },
  "message.ack"(frame) {
    const pending = state.pending.get(frame.client_id);
    if (!pending) return;
    state.pending.delete(frame.client_id);
    pending.li.dataset.id = String(frame.id);
    if (!state.byId.has(frame.id)) state.byId.set(frame.id, pending.li);
    else if (state.byId.get(frame.id) !== pending.li) pending.li.remove();
  },
  presence(frame) {
    renderMembers(frame.members);
  },
  typing(frame) {
    if (isMe(frame.alias) || state.hidden.has(frame.alias)) return;
    els.typing.textContent = interpolate(t("%s is typing…"), [frame.alias]);
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(() => { els.typing.textContent = ""; }, 3500);
  },
  notice(frame) {
    if (frame.resources) {
      addSupportCard(frame);
      return;
    }
    // The warning's reason is already in its text; the others carry it apart.
    const reason = frame.reason && frame.code !== "warned"
      ? " " + interpolate(t("Reason: %s"), [frame.reason]) : "";
    const text = frame.detail + reason;
    switch (frame.code) {
      case "muted":
        if (state.me && frame.until) state.me = { ...state.me, muted_until: frame.until };
        updateComposer();
        addNote(text, "notice private important");
        break;
      case "unmuted":
        if (state.me) state.me = { ...state.me, muted_until: null };
        updateComposer();
        addNote(text, "notice private");
        break;
      case "warned":
        addNote(text, "notice private important");
        break;
      case "removed":
      case "banned":
      case "declined":
        state.lastNotice = text;
        if (!els.chat.hidden) addNote(text, "notice private important");
        setStatus(text);
        break;
      default:
        addNote(text, "notice private");
    }
  },
  "session.ended"(frame) {
    state.lastNotice = frame.detail;
    if (!els.chat.hidden) addNote(frame.detail, "notice important");
    setStatus(frame.detail);
  },
  "crisis.alert"(frame) {
    // Facilitators only: someone may need them now.
    addNote(interpolate(t("%s may be in crisis. Consider reaching out to them privately."),
      [frame.alias]), "alert");
    const li = state.byId.get(frame.message_id);
    if (li) li.classList.add("crisis");
  },
  error(frame) {
    if (frame.ref && state.pending.has(frame.ref)) {
      const pending = state.pending.get(frame.ref);
      state.pending.delete(frame.ref);
      pending.li.classList.remove("pending");
      pending.li.classList.add("failed");
      pending.li.append(el("p", { class: "why", text: frame.detail }));
      if (frame.code === "muted" && frame.muted_until && state.me) {
        state.me = { ...state.me, muted_until: frame.muted_until };
        updateComposer();
      }
      return;
    }
    setStatus(frame.detail);
    clearTimeout(state.joinTimer);
    if (["room_full", "room_closed", "room_locked"].includes(frame.code)) {
      state.joinTimer = setTimeout(() => live.send({ type: "join" }), JOIN_RETRY_MS);
    } else if (["banned", "removed", "declined"].includes(frame.code)) {
      // Refused at the door: the socket stays open but this person cannot take part.
      state.ended = frame.detail;
      updateComposer();
      if (frame.code === "removed" && frame.retry_after && frame.retry_after < 86400) {
        state.joinTimer = setTimeout(() => live.send({ type: "join" }), frame.retry_after * 1000);
      }
    }
  },
  pong() {},
};

// --- the socket ---------------------------------------------------------------------------
function onClose(event) {
  state.joined = false;
  if (event.code === CLOSE.NOT_AUTHENTICATED) {
    show("join");
    setStatus(closeReason(event.code));
    return false;
  }
  if (event.code === CLOSE.IDENTITY_ERASED) {
    els.messages.replaceChildren();
    state.byId.clear();
    show("join");
    setStatus(closeReason(event.code));
    return false;
  }
  if (FINAL_CLOSES.has(event.code)) {
    // Removed, banned, declined or the session ended: say why, and do not knock again.
    state.ended = state.lastNotice || closeReason(event.code);
    state.lastNotice = "";
    // Out of the circle: its live state (who is here, the pin, the lock) is not ours to show.
    renderMembers([]);
    renderPinned(els.pinned, null);
    els.roomState.hidden = true;
    setStatus(state.ended);
    if (!els.waiting.hidden) show(null); // declined at the door: only the reason stays
    updateComposer();
    els.rejoin.hidden = !(event.code === CLOSE.REMOVED || event.code === CLOSE.SESSION_ENDED);
    return false;
  }
  if (event.code === CLOSE.FLOODING) setStatus(t("Too many messages at once. Reconnecting soon."));
  updateComposer();
  return true;
}

function resendPending() {
  for (const [clientId, pending] of state.pending) {
    live.send({ type: "message.send", body: pending.body, client_id: clientId });
  }
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
  const clientId = newClientId();
  const li = renderMessage({ id: 0, alias: state.me ? state.me.alias : "", role: "participant",
    body, created_at: new Date().toISOString() }, { mine: true });
  li.classList.add("pending");
  els.messages.append(li);
  li.scrollIntoView({ block: "end" });
  state.pending.set(clientId, { body, li });
  live.send({ type: "message.send", body, client_id: clientId });  // else resent on reconnect
  els.input.value = "";
  els.input.focus();
}

function onInput() {
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
    setStatus(t("The facilitators have been told privately. Help is on its way."));
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
    els.composer.requestSubmit();
  }
});
els.reportDialog.addEventListener("close", reportClosed);
els.help.addEventListener("click", askForHelp);
els.rejoin.addEventListener("click", () => {
  els.rejoin.hidden = true;
  live.connect();
});
renderHiddenList();

if (root.dataset.authenticated === "1") {
  live.connect();
} else {
  show("join");
}
