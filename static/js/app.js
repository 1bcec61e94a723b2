/* ContentFlow page script. No inline scripts anywhere (the CSP forbids them):
 * behaviour hangs off data-* attributes here. */
(function () {
  "use strict";

  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function (error) {
        console.warn("Service worker registration failed", error);
      });
    });
  }

  // <form data-confirm="Delete this?"> asks before submitting (works for htmx too:
  // htmx listens to the same submit event and respects preventDefault).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  function flash(message, category) {
    var region = document.getElementById("flash");
    if (!region) { return; }
    var p = document.createElement("p");
    p.className = "flash flash-" + category;
    p.textContent = message;
    region.replaceChildren(p);
  }

  // A request that never reached the server (offline, timeout) must not fail silently.
  document.addEventListener("htmx:error", function () {
    flash(navigator.onLine ? "That did not go through. Please try again."
                           : "You are offline. Reconnect and try again.", "error");
  });
})();
