// "Your identity" page: set a passphrase (POST /api/v1/identities/passphrase/) and sign in with
// one (POST /api/v1/identities/login/). Plain ES module, no build step, no inline script. Texts
// come translated from the page (data attributes) or from the server's answer (`detail`), and go
// in with textContent.

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "Accept": "application/json",
               "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  });
  let data = {};
  try { data = await response.json(); } catch { /* 204: no body */ }
  return { ok: response.ok, data };
}

/** The server's reason, as one readable line (a service error or a field error). */
function detailOf(data, fallback) {
  if (typeof data.detail === "string") return data.detail;
  const fields = data.detail && typeof data.detail === "object" ? Object.values(data.detail) : [];
  const first = fields.flat().find((item) => typeof item === "string");
  return first || fallback;
}

const passphrase = document.getElementById("passphrase");
if (passphrase) {
  const form = document.getElementById("passphrase-form");
  const status = document.getElementById("passphrase-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = form.elements.passphrase.value;
    if (value !== form.elements.again.value) {
      status.textContent = passphrase.dataset.mismatch;
      form.elements.again.focus();
      return;
    }
    form.querySelector("button").disabled = true;
    try {
      const { ok, data } = await post("/api/v1/identities/passphrase/", { passphrase: value });
      status.textContent = ok ? passphrase.dataset.saved : detailOf(data, passphrase.dataset.failed);
      if (ok) form.reset();
    } catch {
      status.textContent = passphrase.dataset.failed;
    } finally {
      form.querySelector("button").disabled = false;
    }
  });
}

const signIn = document.getElementById("sign-in");
if (signIn) {
  const form = document.getElementById("sign-in-form");
  const status = document.getElementById("sign-in-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.querySelector("button").disabled = true;
    try {
      const { ok, data } = await post("/api/v1/identities/login/", {
        pseudonym: form.elements.pseudonym.value, passphrase: form.elements.passphrase.value });
      if (ok) {
        window.location.assign(window.location.pathname); // drawn again as the new identity
        return;
      }
      status.textContent = detailOf(data, signIn.dataset.failed);
    } catch {
      status.textContent = signIn.dataset.failed;
    }
    form.querySelector("button").disabled = false;
  });
}
