// The facilitator's side of private one-to-one conversations, shared by the duty desk
// (duty.js, its own socket) and the facilitators' console (console.js, the circle's socket).
// Plain ES module, no build step. Safety: user text only through textContent, never as HTML.
// Protocol: docs/protocol.md ("Private support"); the server decides who may read or write.

import { el, interpolate, newClientId, t } from "./common.js";

/** A translated sentence with user text in the place of its %s, isolated (its own direction). */
function fill(format, text, cls = "") {
  const [before, after = ""] = format.split("%s");
  return [before, el("bdi", { dir: "auto", class: cls || null, text }), after].filter((part) => part !== "");
}

/** "05 22 11 22 33" -> "0522112233": only digits and + go into a tel: link. */
const tel = (phone) => phone.replace(/[^0-9+]/g, "");

/** A help resource card, as both parties see it in the conversation. */
export function resourceCard(resource) {
  const card = el("p", { class: "support-card" }, el("strong", { dir: "auto", text: resource.name }));
  if (resource.phone) {
    card.append(" · ", el("a", { class: "phone", href: `tel:${tel(resource.phone)}`, dir: "ltr", text: resource.phone }));
  }
  if (resource.hours) card.append(" · ", el("span", { dir: "auto", text: resource.hours }));
  if (resource.url) {
    card.append(" · ", el("a", { href: resource.url, rel: "noopener noreferrer", dir: "ltr", text: resource.url }));
  }
  return card;
}

export class SupportBoard {
  /**
   * container: where the conversations go; send(frame) -> bool: the socket's send;
   * announce: a polite live region (each new message from the person is read out once there);
   * empty: shown while there is no conversation; onStatus(text): the page's status line.
   */
  constructor({ container, send, announce, empty = null, onStatus = () => {} }) {
    Object.assign(this, { container, send, announce, empty, onStatus });
    this.conversations = new Map(); // id -> {conversation, box, log, input, status}
    this.pending = new Map(); // ref -> {id, what}
  }

  /** Every open conversation, as the server listed them (support.state, duty.state). */
  state(conversations) {
    for (const id of [...this.conversations.keys()]) {
      if (!conversations.some((c) => c.id === id)) this.remove(id);
    }
    for (const conversation of conversations) this.opened(conversation);
    this.renderEmpty();
  }

  /** Draw a conversation, or draw it again (a hand-over), keeping what was being typed. */
  opened(conversation) {
    if (conversation.ended_at) return;
    const known = this.conversations.get(conversation.id);
    if (known && known.conversation.facilitator_alias === conversation.facilitator_alias) {
      // The same conversation again (a fresh duty.state): only what is new, the focus stays.
      for (const message of conversation.messages) this.addMessage(conversation.id, message);
      return;
    }
    if (known) known.box.remove();
    const parts = this.draw(conversation);
    if (known) parts.input.value = known.input.value;
    this.conversations.set(conversation.id, { conversation, ...parts });
    this.container.append(parts.box);
    for (const message of conversation.messages) this.addMessage(conversation.id, message);
    this.renderEmpty();
  }

  draw(conversation) {
    const id = conversation.id;
    const headingId = `support-${id}-title`;
    const box = el("section", {
      class: "support-panel panel", dataset: { id: String(id) }, "aria-labelledby": headingId,
    });
    const heading = el("h3", { id: headingId },
      ...fill(t("Private conversation with %s"), conversation.participant, "alias"), " · ",
      el("span", { lang: conversation.room.language, dir: conversation.room.dir, text: conversation.room.title }));
    // Not a live region: a new message from the person is read out once, in `announce`.
    const log = el("ol", {
      class: "messages support-messages", tabindex: "0",
      "aria-label": interpolate(t("Private messages with %s"), [conversation.participant]),
    });
    const status = el("p", { class: "status", role: "status" });
    const inputId = `support-${id}-input`;
    // No maxlength: the circle's house rules say when a message is too long (its error shows).
    const input = el("textarea", { id: inputId, rows: "2", dir: "auto" });
    const form = el("form", { class: "composer", autocomplete: "off" },
      el("label", { for: inputId, class: "visually-hidden",
        text: interpolate(t("Your private message to %s"), [conversation.participant]) }),
      input, el("button", { type: "submit", class: "primary", text: t("Send") }));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = input.value.trim();
      if (body) this.request({ type: "support.send", conversation_id: id, body, client_id: newClientId() }, id, "send");
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) form.requestSubmit();
    });
    box.append(heading,
      el("p", { class: "hint", text: t("Only you and this person see this conversation. Its messages expire with the circle's retention.") }),
      log, form, status);
    const resources = conversation.resources || [];
    if (resources.length) box.append(this.resourcePicker(id, resources));
    box.append(el("div", { class: "button-row" }, el("button", {
      type: "button", text: t("End the private conversation"),
      onclick: () => this.request({ type: "support.end", conversation_id: id }, id, "end"),
    })));
    return { box, log, input, status };
  }

  /** The help resources this facilitator can send: those that fit the person first (the
   * circle's region and the person's language), each with its note for facilitators. */
  resourcePicker(id, resources) {
    const selectId = `support-${id}-resource`;
    const byId = new Map(resources.map((r) => [String(r.id), r]));
    // An option holds plain text only: Unicode isolates keep a mixed-script name whole and the
    // number after it ("Police — الشرطة (19)", not "Police — (19) الشرطة").
    const option = (r) => el("option", {
      value: String(r.id), text: r.phone ? `\u2068${r.name}\u2069 (\u2066${r.phone}\u2069)` : r.name,
    });
    const fitting = resources.filter((r) => r.fits);
    const others = resources.filter((r) => !r.fits);
    const select = el("select", { id: selectId });
    if (fitting.length) select.append(el("optgroup", { label: t("For this person's region and language") }, ...fitting.map(option)));
    if (others.length) select.append(el("optgroup", { label: t("Other regions or languages") }, ...others.map(option)));
    const note = el("p", { class: "resource-note hint" });
    const showNote = () => {
      const chosen = byId.get(select.value);
      note.replaceChildren(...(chosen?.facilitator_note
        ? fill(t("Note for facilitators: %s"), chosen.facilitator_note) : []));
      note.hidden = !chosen?.facilitator_note;
    };
    select.addEventListener("change", showNote);
    showNote();
    return el("div", { class: "resource-picker" },
      el("label", { for: selectId, text: t("Help resource") }), select,
      el("button", {
        type: "button", text: t("Send this help resource"),
        onclick: () => this.request({ type: "support.resource", conversation_id: id, resource_id: Number(select.value) }, id, "resource"),
      }),
      note);
  }

  /** Open a private conversation ({alias} in a circle, or {report_id}); the server answers
   * with support.opened (to both parties) and this page's duty.ack. */
  open(params) {
    const ref = newClientId();
    if (!this.send({ type: "support.open", ref, ...params })) {
      this.onStatus(t("Not connected: nothing was done. Please try again in a moment."));
      return false;
    }
    this.pending.set(ref, { id: null, what: "open" });
    this.onStatus(t("Opening the private conversation…"));
    return true;
  }

  request(frame, id, what) {
    const ref = newClientId();
    const entry = this.conversations.get(id);
    if (!this.send({ ...frame, ref })) {
      if (entry) entry.status.textContent = t("Not connected: nothing was sent. Please try again in a moment.");
      return;
    }
    this.pending.set(ref, { id, what });
    if (entry) entry.status.textContent = "";
  }

  /** A new message (support.message); `live`: read the person's message out, once. */
  addMessage(conversationId, message, { live = false } = {}) {
    const entry = this.conversations.get(conversationId);
    if (!entry || entry.log.querySelector(`[data-id="${message.id}"]`)) return;
    const mine = message.role === "facilitator";
    const li = el("li", { class: `message${mine ? " mine" : ""}`, dataset: { id: String(message.id) } },
      el("p", { class: "meta" }, el("bdi", { dir: "auto", text: message.alias })));
    if (message.body) li.append(el("p", { class: "body", dir: "auto", text: message.body }));
    if (message.resource) li.append(resourceCard(message.resource));
    entry.log.append(li);
    li.scrollIntoView({ block: "nearest" });
    if (live && !mine && this.announce) {
      this.announce.textContent = message.body
        ? interpolate(t("Private message from %(alias)s: %(body)s"), { alias: message.alias, body: message.body }, true)
        : interpolate(t("Private message from %s"), [message.alias]);
    }
  }

  ended(conversationId) {
    this.remove(conversationId);
    this.renderEmpty();
  }

  remove(id) {
    this.conversations.get(id)?.box.remove();
    this.conversations.delete(id);
  }

  renderEmpty() {
    if (this.empty) this.empty.hidden = this.conversations.size > 0;
  }

  /** Put the keyboard in a conversation's composer (after opening it, or from an alert). */
  focus(id) {
    const entry = this.conversations.get(id);
    if (!entry) return false;
    entry.box.scrollIntoView({ block: "nearest" });
    entry.input.focus();
    return true;
  }

  /** A `duty.ack`: true when it answered one of ours. */
  acked(frame) {
    const asked = this.pending.get(frame.ref);
    if (!asked) return false;
    this.pending.delete(frame.ref);
    if (asked.what === "open" && frame.result?.conversation_id) {
      // Drawn by support.opened, which may come just before or just after this answer.
      const id = frame.result.conversation_id;
      this.onStatus(t("The private conversation is open."));
      if (!this.focus(id)) this.focusWhenOpened = id;
      return true;
    }
    const entry = this.conversations.get(asked.id);
    if (entry && asked.what === "send") entry.input.value = "";
    return true;
  }

  /** An `error` frame: true when it answered one of ours (shown in that conversation). */
  failed(frame) {
    const asked = this.pending.get(frame.ref);
    if (!asked) return false;
    this.pending.delete(frame.ref);
    const entry = this.conversations.get(asked.id);
    if (entry) entry.status.textContent = frame.detail;
    else this.onStatus(frame.detail);
    return true;
  }

  /** The frames a facilitator's page hands over as they come. */
  handle(frame) {
    switch (frame.type) {
      case "support.state": this.state(frame.conversations); return true;
      case "support.opened":
        this.opened(frame.conversation);
        if (this.focusWhenOpened === frame.conversation.id) {
          this.focusWhenOpened = null;
          this.focus(frame.conversation.id);
        }
        return true;
      case "support.message": this.addMessage(frame.conversation_id, frame.message, { live: true }); return true;
      case "support.ended": this.ended(frame.conversation_id); return true;
      default: return false;
    }
  }
}
