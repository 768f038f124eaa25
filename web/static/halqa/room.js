// Halqa browser client for one circle. Plain ES module, no build step.
// Safety: every piece of user text is put on the page with textContent, never as HTML.
// Protocol: docs/protocol.md (frames defined in rooms/protocol.py).

const t = (s) => (window.gettext ? window.gettext(s) : s);
const interpolate = (fmt, obj) => (window.interpolate ? window.interpolate(fmt, obj, true) : fmt);

const root = document.getElementById("room");
const slug = root.dataset.slug;
const $ = (id) => document.getElementById(id);
const els = {
  status: $("status"), join: $("join"), joinButton: $("join-button"), rules: $("rules"),
  rulesText: $("rules-text"), rulesAccept: $("rules-accept"), chat: $("chat"),
  members: $("members"), memberCount: $("member-count"), myAlias: $("my-alias"),
  messages: $("messages"), typing: $("typing"), composer: $("composer"), input: $("message-input"),
};

const PING_EVERY_MS = 25000;
const TYPING_EVERY_MS = 2000;
const JOIN_RETRY_MS = 15000;
const CLOSE_NOT_AUTHENTICATED = 4401;
const CLOSE_ROOM_NOT_FOUND = 4404;
const CLOSE_IDENTITY_ERASED = 4410;
const CLOSE_FLOODING = 4429;

const state = {
  ws: null,
  me: null,
  lastId: 0,            // highest message id seen: the resume point
  byId: new Map(),      // message id -> <li>
  pending: new Map(),   // client_id -> {body, li}; resent after a reconnect
  attempt: 0,
  pingTimer: null,
  joinTimer: null,
  lastTyping: 0,
  typingTimer: null,
  stopped: false,
};

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function newClientId() {
  // crypto.randomUUID needs a secure context; getRandomValues works everywhere.
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function setStatus(text) {
  els.status.textContent = text;
}

function show(panel) {
  for (const name of ["join", "rules", "chat"]) els[name].hidden = name !== panel;
}

// --- rendering ------------------------------------------------------------------------------
function renderMessage(message, li = document.createElement("li")) {
  li.className = "message" + (message.role === "facilitator" ? " facilitator" : "")
    + (state.me && message.alias === state.me.alias ? " mine" : "");
  li.dataset.id = String(message.id);
  li.replaceChildren();
  const meta = document.createElement("div");
  meta.className = "meta";
  const alias = document.createElement("span");
  alias.className = "alias";
  alias.dir = "auto";
  alias.textContent = message.alias;
  meta.append(alias);
  if (message.role === "facilitator") {
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = t("facilitator");
    meta.append(" ", badge);
  }
  const time = document.createElement("time");
  time.dateTime = message.created_at;
  time.textContent = new Date(message.created_at)
    .toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
  meta.append(" ", time);
  const body = document.createElement("p");
  body.className = "body";
  body.dir = "auto";
  body.textContent = message.body;
  li.append(meta, body);
  return li;
}

function addMessage(message) {
  const existing = state.byId.get(message.id);
  if (existing) {
    renderMessage(message, existing); // our own pending bubble: show the stored text
    existing.classList.remove("pending");
  } else {
    const li = renderMessage(message);
    els.messages.append(li);
    state.byId.set(message.id, li);
    li.scrollIntoView({ block: "end" });
  }
  state.lastId = Math.max(state.lastId, message.id);
}

function addNote(text, kind = "notice") {
  const li = document.createElement("li");
  li.className = `note ${kind}`;
  li.textContent = text;
  els.messages.append(li);
  li.scrollIntoView({ block: "end" });
}

function addSupportCard(frame) {
  const li = document.createElement("li");
  li.className = "note support-card";
  li.setAttribute("role", "note");
  const text = document.createElement("p");
  text.textContent = frame.detail;
  const list = document.createElement("ul");
  for (const resource of frame.resources) {
    const item = document.createElement("li");
    const name = document.createElement("strong");
    name.textContent = resource.name;
    item.append(name);
    if (resource.phone) {
      const phone = document.createElement("a");
      phone.href = `tel:${resource.phone.replace(/[^0-9+]/g, "")}`;
      phone.textContent = resource.phone;
      item.append(" · ", phone);
    }
    if (resource.hours) item.append(` · ${resource.hours}`);
    list.append(item);
  }
  li.append(text, list);
  els.messages.append(li);
  li.scrollIntoView({ block: "end" });
}

function renderMembers(members) {
  els.members.replaceChildren(...members.map((member) => {
    const li = document.createElement("li");
    li.dir = "auto";
    li.textContent = member.alias;
    if (member.role === "facilitator") li.className = "facilitator";
    return li;
  }));
  els.memberCount.textContent = String(members.length);
}

// --- frames from the server ---------------------------------------------------------------
const handlers = {
  welcome(frame) {
    state.me = frame.you;
    state.attempt = 0;
    els.myAlias.textContent = frame.you.alias;
    els.rulesText.textContent = frame.rules.text;
    renderMembers(frame.members);
    if (!frame.rules.accepted) {
      show("rules");
      setStatus(t("Please read the house rules."));
      return;
    }
    show("chat");
    if (!frame.joined) return;
    setStatus(interpolate(t("You are in the circle as %s."), [frame.you.alias]));
    // Silence the live region while history is drawn, so it is not read out in full.
    els.messages.setAttribute("aria-live", "off");
    for (const message of frame.history) addMessage(message);
    if (frame.history_truncated) addNote(t("Some earlier messages are not shown."));
    els.messages.setAttribute("role", "log");
    els.messages.setAttribute("aria-live", "polite");
    resendPending();
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
    if (state.me && frame.alias === state.me.alias) return;
    els.typing.textContent = interpolate(t("%s is typing…"), [frame.alias]);
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(() => { els.typing.textContent = ""; }, 3500);
  },
  notice(frame) {
    if (frame.resources) addSupportCard(frame);
    else addNote(frame.detail, "notice private");
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
      const why = document.createElement("p");
      why.className = "why";
      why.textContent = frame.detail;
      pending.li.append(why);
      return;
    }
    setStatus(frame.detail);
    if (frame.code === "room_full" || frame.code === "room_closed") {
      clearTimeout(state.joinTimer);
      state.joinTimer = setTimeout(() => send({ type: "join" }), JOIN_RETRY_MS);
    }
  },
  pong() {},
};

// --- the socket ---------------------------------------------------------------------------
function send(frame) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.ws.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const after = state.lastId ? `?after=${state.lastId}` : "";
  const ws = new WebSocket(`${scheme}://${location.host}/ws/rooms/${encodeURIComponent(slug)}/${after}`);
  state.ws = ws;
  setStatus(t("Connecting…"));
  ws.addEventListener("message", (event) => {
    let frame;
    try { frame = JSON.parse(event.data); } catch { return; }
    const handler = handlers[frame.type];
    if (handler) handler(frame);
  });
  ws.addEventListener("open", () => {
    clearInterval(state.pingTimer);
    state.pingTimer = setInterval(() => send({ type: "ping" }), PING_EVERY_MS);
  });
  ws.addEventListener("close", (event) => {
    clearInterval(state.pingTimer);
    if (state.ws !== ws) return;
    if (event.code === CLOSE_NOT_AUTHENTICATED) {
      show("join");
      setStatus(t("Join the circle to take part."));
      return;
    }
    if (event.code === CLOSE_IDENTITY_ERASED) {
      els.messages.replaceChildren();
      show("join");
      setStatus(t("Your identity and messages are erased."));
      return;
    }
    if (event.code === CLOSE_ROOM_NOT_FOUND) {
      setStatus(t("This circle does not exist any more."));
      return;
    }
    if (event.code === CLOSE_FLOODING) setStatus(t("Too many messages at once. Reconnecting soon."));
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  if (state.stopped) return;
  // Exponential backoff with full jitter, so a restarted server is not hit by everyone at once.
  const ceiling = Math.min(30000, 500 * 2 ** state.attempt);
  const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  state.attempt += 1;
  setStatus(interpolate(t("Connection lost. Trying again in %s s…"), [Math.ceil(delay / 1000)]));
  setTimeout(connect, delay);
}

function resendPending() {
  for (const [clientId, pending] of state.pending) {
    send({ type: "message.send", body: pending.body, client_id: clientId });
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
    connect();
  } catch {
    setStatus(t("Could not join just now. Please try again."));
  } finally {
    els.joinButton.disabled = false;
  }
}

function submitMessage(event) {
  event.preventDefault();
  const body = els.input.value.trim();
  if (!body) return;
  const clientId = newClientId();
  const li = renderMessage({ id: 0, alias: state.me ? state.me.alias : "", role: "participant",
    body, created_at: new Date().toISOString() });
  li.classList.add("pending", "mine");
  els.messages.append(li);
  li.scrollIntoView({ block: "end" });
  state.pending.set(clientId, { body, li });
  send({ type: "message.send", body, client_id: clientId });  // else resent on reconnect
  els.input.value = "";
  els.input.focus();
}

function onInput() {
  const now = Date.now();
  if (now - state.lastTyping > TYPING_EVERY_MS) {
    state.lastTyping = now;
    send({ type: "typing" });
  }
}

els.joinButton.addEventListener("click", joinAnonymously);
els.rulesAccept.addEventListener("click", () => send({ type: "rules.accept" }));
els.composer.addEventListener("submit", submitMessage);
els.input.addEventListener("input", onInput);
els.input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    els.composer.requestSubmit();
  }
});

if (root.dataset.authenticated === "1") {
  connect();
} else {
  show("join");
}
