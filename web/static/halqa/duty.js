// The duty desk (web/templates/web/duty.html). Plain ES module, no build step.
// Safety: user text only reaches the page through textContent. Protocol: docs/protocol.md
// ("The duty desk"), frames defined in rooms/protocol.py; the server authorises every request.

import { CLOSE, el, interpolate, labelOf, t } from "./common.js";
import { SupportBoard } from "./support-board.js";

const $ = (id) => document.getElementById(id);
const els = {
  status: $("status"), dutyState: $("duty-state"), toggle: $("duty-toggle"),
  notify: $("notify-toggle"), announce: $("announce"), queue: $("queue"),
  count: $("queue-count"), empty: $("queue-empty"), conversations: $("conversations"),
  conversationsEmpty: $("conversations-empty"), announceMessage: $("announce-message"),
};
const PING_EVERY_MS = 25000;
const BASE_TITLE = document.title;
const NOTIFY_KEY = "halqa.duty.notify";

const desk = {
  ws: null, onDuty: false, queue: new Map(), colleagues: [],
  notify: localStorage.getItem(NOTIFY_KEY) === "1", retry: 0,
};
const board = new SupportBoard({
  container: els.conversations, send, announce: els.announceMessage,
  empty: els.conversationsEmpty, onStatus: (text) => { els.status.textContent = text; },
});

function send(frame) {
  if (!desk.ws || desk.ws.readyState !== WebSocket.OPEN) return false;
  desk.ws.send(JSON.stringify(frame));
  return true;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws/duty/`);
  desk.ws = ws;
  els.status.textContent = t("Connecting…");
  let ping = null;
  ws.addEventListener("open", () => {
    desk.retry = 0;
    els.status.textContent = "";
    ping = setInterval(() => send({ type: "ping" }), PING_EVERY_MS);
  });
  ws.addEventListener("message", (event) => {
    let frame;
    try { frame = JSON.parse(event.data); } catch { return; }
    frames[frame.type]?.(frame);
  });
  ws.addEventListener("close", (event) => {
    clearInterval(ping);
    els.toggle.disabled = true;
    if (event.code === CLOSE.NOT_AUTHENTICATED || event.code === CLOSE.NOT_FACILITATOR) return;
    els.status.textContent = t("Connection lost. Reconnecting…");
    desk.retry += 1;
    setTimeout(connect, Math.min(30000, 1000 * 2 ** desk.retry));
  });
}

// --- waiting time, title, notifications ------------------------------------------------------
function waited(iso) {
  const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
  const minutes = Math.floor(seconds / 60);
  return minutes ? interpolate(t("waiting for %(m)s min %(s)s s"), { m: minutes, s: seconds % 60 }, true)
    : interpolate(t("waiting for %(s)s s"), { s: seconds }, true);
}

function tick() {
  for (const li of els.queue.children) {
    const item = desk.queue.get(Number(li.dataset.id));
    const clock = li.querySelector(".waited");
    if (item && clock) clock.textContent = waited(item.created_at);
  }
}

function renderTitle() {
  const n = desk.queue.size;
  document.title = n ? `(${n}) ${BASE_TITLE}` : BASE_TITLE;
  els.count.textContent = String(n);
  els.empty.hidden = n > 0;
}

function beep() {
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    tone.frequency.value = 660;
    tone.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.25);
  } catch { /* no sound available */ }
}

function alertArrived(item) {
  const text = interpolate(t("New alert from %(alias)s in %(circle)s"),
    { alias: item.alias, circle: item.room.title }, true);
  els.announce.textContent = text; // said once, assertively (a new alert only: duty.alert)
  if (desk.notify && document.hidden) {
    if (window.Notification && Notification.permission === "granted") new Notification(text);
    beep();
  }
}

// --- the queue -------------------------------------------------------------------------------
function button(label, onclick, cls = "") {
  return el("button", { type: "button", class: cls || null, text: label, onclick });
}

function renderItem(item) {
  const li = el("li", { class: "desk-item", dataset: { id: String(item.id) } });
  li.append(el("p", {},
    el("strong", { dir: "auto", text: item.alias }), " · ",
    el("span", { lang: item.room.language, dir: item.room.dir, text: item.room.title }), " · ",
    el("span", { text: labelOf("report_sources", item.source) }), " · ",
    el("span", { class: "waited", text: waited(item.created_at) })));
  const who = [];
  if (item.acknowledged_by) who.push(interpolate(t("Seen by %s"), [item.acknowledged_by]));
  if (item.taken_by) who.push(interpolate(t("Taken by %s"), [item.taken_by]));
  if (who.length) li.append(el("p", { class: "hint", text: who.join(" · ") }));
  const actions = el("div", { class: "button-row" });
  if (!item.acknowledged_at) actions.append(button(t("Acknowledge"), () => send({ type: "desk.acknowledge", report_id: item.id })));
  if (!item.taken_by) actions.append(button(t("Take it"), () => send({ type: "desk.take", report_id: item.id }), "primary"));
  if (!item.conversation_id) {
    actions.append(button(t("Open a private conversation"), () => board.open({ report_id: item.id })));
  } else if (board.conversations.has(item.conversation_id)) {
    actions.append(button(t("Go to the private conversation"), () => board.focus(item.conversation_id)));
  }
  if (desk.colleagues.length) {
    const select = el("select", { "aria-label": t("Hand over to") },
      ...desk.colleagues.map((c) => el("option", { value: String(c.id), text: c.name })));
    actions.append(select, button(t("Hand over"), () => send({ type: "desk.handover", report_id: item.id, to: Number(select.value) })));
  }
  actions.append(button(t("Resolve"), () => send({ type: "desk.resolve", report_id: item.id, outcome: "actioned" })));
  li.append(actions);
  return li;
}

function renderQueue() {
  const items = [...desk.queue.values()].sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
  // The keyboard stays where it was: on the same button of the same alert, else on that alert's
  // first button (the one pressed may be gone: "Take it" once taken).
  const active = document.activeElement;
  const at = els.queue.contains(active) ? active.closest("li")?.dataset.id : null;
  const label = at ? active.textContent : null;
  els.queue.replaceChildren(...items.map(renderItem));
  if (at) {
    const li = els.queue.querySelector(`li[data-id="${at}"]`);
    const again = li && ([...li.querySelectorAll("button, select")].find((node) => node.textContent === label)
      || li.querySelector("button"));
    if (again) again.focus();
  }
  renderTitle();
}

function upsert(item) {
  if (item.status !== "open") desk.queue.delete(item.id);
  else desk.queue.set(item.id, item);
  renderQueue();
}

// --- frames from the server ------------------------------------------------------------------
const frames = {
  "duty.state"(frame) {
    desk.onDuty = frame.on_duty;
    desk.colleagues = frame.colleagues;
    els.toggle.disabled = false; // not before the server said whether we are on duty
    els.toggle.textContent = frame.on_duty ? t("Go off duty") : t("Come on duty");
    els.toggle.setAttribute("aria-pressed", String(frame.on_duty));
    els.dutyState.textContent = frame.on_duty
      ? t("You are on duty: alerts from your circles reach you here, wherever you are.")
      : t("You are off duty. Participants are told nobody is on duty unless a colleague is.");
    desk.queue = new Map(frame.queue.map((item) => [item.id, item]));
    board.state(frame.conversations);
    renderQueue();
  },
  "duty.alert"(frame) {
    const known = desk.queue.has(frame.report.id);
    upsert(frame.report);
    if (!known) alertArrived(frame.report);
  },
  "duty.update"(frame) {
    upsert(frame.report);
  },
  "duty.ack"(frame) {
    if (frame.request === "duty.start" || frame.request === "duty.end") return;
    if (board.acked(frame)) return;
    els.status.textContent = t("Done.");
  },
  "support.state": (frame) => board.handle(frame),
  "support.opened"(frame) {
    board.handle(frame);
    renderQueue(); // "Go to the private conversation" on its alert
  },
  "support.message": (frame) => board.handle(frame),
  "support.ended"(frame) {
    board.handle(frame);
    renderQueue();
  },
  error(frame) {
    if (board.failed(frame)) return;
    els.status.textContent = frame.detail;
  },
};

els.toggle.addEventListener("click", () => send({ type: desk.onDuty ? "duty.end" : "duty.start" }));
els.notify.setAttribute("aria-pressed", String(desk.notify));
els.notify.addEventListener("click", async () => {
  desk.notify = !desk.notify;
  if (desk.notify && window.Notification && Notification.permission === "default") {
    await Notification.requestPermission();
  }
  localStorage.setItem(NOTIFY_KEY, desk.notify ? "1" : "0");
  els.notify.setAttribute("aria-pressed", String(desk.notify));
});
setInterval(tick, 1000);
connect();
