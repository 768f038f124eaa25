// "Forget me" on the privacy page: DELETE /api/v1/identities/me/ after a confirmation, then empty
// what this site keeps in the browser's local storage (the `halqa.*` keys) and reload.
// Plain ES module, no build step, no inline script (the CSP forbids it). Every text shown comes
// already translated from the page (data attributes, hidden elements) and goes in with textContent.

const root = document.getElementById("forget-me");

// The server also sends Clear-Site-Data, which browsers honour only over HTTPS (or on localhost).
function forgetLocalStorage() {
  try {
    const storage = window.localStorage;
    const keys = [];
    for (let i = 0; i < storage.length; i += 1) {
      const key = storage.key(i);
      if (key && key.startsWith("halqa.")) keys.push(key);
    }
    keys.forEach((key) => storage.removeItem(key));
  } catch { /* storage switched off: nothing was kept */ }
}

function csrfToken() {
  const input = root.querySelector("input[name=csrfmiddlewaretoken]");
  if (input && input.value) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

if (root) {
  const start = document.getElementById("forget-start");
  const confirmBox = document.getElementById("forget-confirm");
  const yes = document.getElementById("forget-yes");
  const no = document.getElementById("forget-no");
  const status = document.getElementById("forget-status");

  const setStatus = (text) => { status.textContent = text; };
  const busy = (on) => { yes.disabled = on; no.disabled = on; };

  start.hidden = false;  // the button only shows where this script runs

  start.addEventListener("click", () => {
    setStatus("");
    start.hidden = true;
    confirmBox.hidden = false;
    no.focus();  // the safe choice first
  });

  no.addEventListener("click", () => {
    confirmBox.hidden = true;
    start.hidden = false;
    start.focus();
  });

  yes.addEventListener("click", async () => {
    busy(true);
    setStatus(root.dataset.busy);
    let erased = false;
    try {
      const response = await fetch("/api/v1/identities/me/", {
        method: "DELETE",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      });
      erased = response.status === 204;
    } catch (error) {
      erased = false;
    }
    if (erased) {
      forgetLocalStorage();
      window.location.reload();
      return;
    }
    busy(false);
    setStatus(root.dataset.failed);
  });
}
