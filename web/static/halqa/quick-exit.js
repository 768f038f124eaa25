// Quick exit: leave Halqa at once for a neutral page, on every page. Plain script, no build step.
// The button is a plain link (it works without JavaScript); with JavaScript the page is blanked
// first and the neutral page *replaces* this one in the tab's history, so Back does not return
// here. Escape pressed three times within a second and a half does the same.

(function quickExit() {
  const link = document.getElementById("quick-exit");
  if (!link) return;
  const PRESSES = 3;
  const WITHIN_MS = 1500;
  let presses = [];
  let leaving = false;

  function leave(event) {
    if (event) event.preventDefault();
    if (leaving) return;
    leaving = true;
    const target = link.href;
    // Nothing of the page stays in view, even for the moment the next one takes to load.
    document.title = "";
    document.documentElement.style.visibility = "hidden";
    document.body.replaceChildren();
    window.location.replace(target);
  }

  link.addEventListener("click", (event) => {
    // A middle click or Ctrl+click opens the neutral page elsewhere: let the browser do that.
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    leave(event);
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || event.isComposing || event.repeat) return;
    const now = Date.now();
    presses = presses.filter((time) => now - time < WITHIN_MS);
    presses.push(now);
    if (presses.length >= PRESSES) leave(event);
  }, true);
}());
