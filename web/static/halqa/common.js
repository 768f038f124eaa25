// Shared by room.js (participants) and console.js (facilitators). Plain ES module, no build step.
// Safety: user text only ever reaches the page through textContent or text nodes, never as HTML.
// Protocol: docs/protocol.md (frames and close codes defined in rooms/protocol.py).

export const t = (s) => (window.gettext ? window.gettext(s) : s);
export const interpolate = (fmt, args, named = false) =>
  (window.interpolate ? window.interpolate(fmt, args, named) : fmt);
export const ngettext = (one, many, n) =>
  (window.ngettext ? window.ngettext(one, many, n) : (n === 1 ? one : many));

// --- the protocol's vocabulary ----------------------------------------------------------------
// Close codes, error and notice codes, frame types, report reasons and sources, access modes,
// audit kinds and limits, labels in the page's language: rooms/protocol.py `vocabulary()`, served
// as /protocol.js (loaded by base.html before any module). This page keeps no copy of its own.
function deepFreeze(value) {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
if (!window.HALQA_PROTOCOL) throw new Error("Halqa: /protocol.js must load before common.js");
export const PROTOCOL = deepFreeze(window.HALQA_PROTOCOL);

/** The label of a value in one of the protocol's tables (report_reasons, access_modes…). */
export const labelOf = (table, value) => PROTOCOL[table][value] ?? value;

// Close codes by name: CLOSE.BANNED… (ROLE_CHANGED: made or unmade a facilitator here: reconnect,
// in the new role).
export const CLOSE = PROTOCOL.close_codes;

// Closed on purpose by the server: reconnecting at once would only be refused again.
export const FINAL_CLOSES = new Set([
  CLOSE.NOT_AUTHENTICATED, CLOSE.BANNED, CLOSE.ROOM_NOT_FOUND, CLOSE.REMOVED, CLOSE.DECLINED,
  CLOSE.IDENTITY_ERASED, CLOSE.SESSION_ENDED,
]);

/** Why the server closed the socket, in words, when no notice said it first. */
export function closeReason(code) {
  switch (code) {
    case CLOSE.BANNED: return t("You cannot take part in this circle any more.");
    case CLOSE.REMOVED: return t("A facilitator asked you to leave this session.");
    case CLOSE.DECLINED: return t("A facilitator did not admit you to this session.");
    case CLOSE.SESSION_ENDED: return t("The facilitators ended this session. Thank you for being here.");
    case CLOSE.ROOM_NOT_FOUND: return t("This circle does not exist any more.");
    case CLOSE.IDENTITY_ERASED: return t("Your identity and messages are erased.");
    case CLOSE.NOT_AUTHENTICATED: return t("Join the circle to take part.");
    default: return "";
  }
}

// --- small DOM helpers -----------------------------------------------------------------------
/**
 * Build an element. props: text (textContent), class, dataset, on<event> listeners, booleans as
 * properties (hidden, disabled…), anything else as an attribute. Children are nodes or strings
 * (strings become text nodes, never markup).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (typeof value === "boolean") node[key] = value;
    else node.setAttribute(key, String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

export function newClientId() {
  // crypto.randomUUID needs a secure context; getRandomValues works everywhere.
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// --- time ----------------------------------------------------------------------------------
export function clockTime(iso) {
  return new Date(iso).toLocaleTimeString(document.documentElement.lang,
    { hour: "2-digit", minute: "2-digit" });
}

export function isFuture(iso) {
  return Boolean(iso) && Date.parse(iso) > Date.now();
}

/** "12 minutes", "40 seconds": how long until a time, rounded up. */
export function timeLeft(iso) {
  const seconds = Math.max(1, Math.ceil((Date.parse(iso) - Date.now()) / 1000));
  if (seconds < 60) return interpolate(ngettext("%s second", "%s seconds", seconds), [seconds]);
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 120) return interpolate(ngettext("%s minute", "%s minutes", minutes), [minutes]);
  const hours = Math.round(minutes / 60);
  if (hours < 48) return interpolate(ngettext("%s hour", "%s hours", hours), [hours]);
  const days = Math.round(hours / 24);
  return interpolate(ngettext("%s day", "%s days", days), [days]);
}

// --- messages ------------------------------------------------------------------------------
/** Draw one message (alias, facilitator badge, time, body) into an <li>, reused on redraw. */
export function renderMessage(message, { li = document.createElement("li"), mine = false } = {}) {
  li.className = "message" + (message.role === "facilitator" ? " facilitator" : "")
    + (mine ? " mine" : "");
  li.dataset.id = String(message.id);
  li.dataset.alias = message.alias;
  li.replaceChildren();
  const meta = el("div", { class: "meta" }, el("span", { class: "alias", dir: "auto", text: message.alias }));
  if (message.role === "facilitator") meta.append(" ", el("span", { class: "badge", text: t("facilitator") }));
  meta.append(" ", el("time", { datetime: message.created_at, text: clockTime(message.created_at) }));
  li.append(meta, el("p", { class: "body", dir: "auto", text: message.body }));
  return li;
}

/** Pinned message or announcement: a banner both pages draw the same way. */
export function renderPinned(container, pinned) {
  container.replaceChildren();
  container.hidden = !pinned;
  if (!pinned) return;
  container.append(
    el("p", { class: "pinned-label", text: t("Pinned by the facilitators") }),
    el("p", { class: "pinned-body", dir: "auto" },
      el("span", { class: "alias", dir: "auto", text: pinned.alias }), ": ",
      el("span", { dir: "auto", text: pinned.body })),
  );
}

// --- the live socket ----------------------------------------------------------------------
const PING_EVERY_MS = 25000;

/**
 * One circle's websocket, with keep-alive pings, resume after the last message seen, and
 * reconnection with exponential backoff and full jitter (so a restarted server is not hit by
 * everyone at once). `onClose(event)` returns true to reconnect.
 */
export class LiveSocket {
  constructor({ slug, onFrame, onClose, onStatus, resumeAfter = () => 0 }) {
    Object.assign(this, { slug, onFrame, onClose, onStatus, resumeAfter });
    this.ws = null;
    this.attempt = 0;
    this.pingTimer = null;
    this.retryTimer = null;
  }

  connect() {
    clearTimeout(this.retryTimer);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const lastId = this.resumeAfter();
    const after = lastId ? `?after=${lastId}` : "";
    const ws = new WebSocket(
      `${scheme}://${location.host}/ws/rooms/${encodeURIComponent(this.slug)}/${after}`);
    this.ws = ws;
    this.onStatus(t("Connecting…"));
    ws.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      if (frame.type === "welcome") this.attempt = 0;
      this.onFrame(frame);
    });
    ws.addEventListener("open", () => {
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.send({ type: "ping" }), PING_EVERY_MS);
    });
    ws.addEventListener("close", (event) => {
      clearInterval(this.pingTimer);
      if (this.ws !== ws) return;
      if (this.onClose(event)) this.reconnectLater();
    });
  }

  get open() {
    return Boolean(this.ws) && this.ws.readyState === WebSocket.OPEN;
  }

  /** Close on purpose (leaving the circle): no reconnection follows. */
  close() {
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    const ws = this.ws;
    this.ws = null; // its close event is then ignored
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000);
  }

  send(frame) {
    if (!this.open) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  reconnectLater() {
    const ceiling = Math.min(30000, 500 * 2 ** this.attempt);
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.attempt += 1;
    this.onStatus(interpolate(t("Connection lost. Trying again in %s s…"), [Math.ceil(delay / 1000)]));
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
