/* Keyboard operation of the verification queue (admin). No inline script (CSP).
 *
 *   j / k   focus the next / previous post row ([data-queue-row])
 *   v       verify the focused row's first pending count (its [data-key="v"] button)
 *   c       jump to the focused row's count field (opens its <details>)
 *   o       open the post in a new tab ([data-key="o"])
 *
 * Keys are ignored while typing in a field or with a modifier held. After htmx swaps a
 * row (each action answers with the row's new HTML), focus returns to the row with the
 * same id, so j/k/v keep working without the mouse.
 */
(function () {
  "use strict";

  var current = null;  // id of the focused row

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-queue-row]"));
  }

  function focusRow(row) {
    if (!row) { return; }
    rows().forEach(function (r) { r.classList.remove("is-current"); r.removeAttribute("aria-current"); });
    row.classList.add("is-current");
    row.setAttribute("aria-current", "true");
    current = row.id;
    row.focus();
    row.scrollIntoView({ block: "nearest" });
  }

  function currentRow() {
    var row = current ? document.getElementById(current) : null;
    if (row) { return row; }
    var active = document.activeElement;
    return active && active.closest ? active.closest("[data-queue-row]") : null;
  }

  function move(step) {
    var all = rows();
    if (!all.length) { return; }
    var index = all.indexOf(currentRow());
    var next = index === -1 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, index + step));
    focusRow(all[next]);
  }

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (!document.querySelector("[data-queue]")) { return; }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      if (event.key === "Escape" && typing(event.target)) { focusRow(currentRow()); }
      return;
    }
    var row = currentRow();
    if (event.key === "j") { move(1); event.preventDefault(); return; }
    if (event.key === "k") { move(-1); event.preventDefault(); return; }
    if (!row) { return; }
    var target = null;
    if (event.key === "v") { target = row.querySelector('[data-key="v"]'); }
    if (event.key === "o") { target = row.querySelector('[data-key="o"]'); }
    if (event.key === "c") {
      var field = row.querySelector('[data-key="c"]');
      if (field) {
        var details = field.closest("details");
        if (details) { details.open = true; }
        field.focus();
        event.preventDefault();
      }
      return;
    }
    if (target) { event.preventDefault(); target.click(); }
  });

  // Clicking or tabbing into a row makes it the current one.
  document.addEventListener("focusin", function (event) {
    var row = event.target && event.target.closest ? event.target.closest("[data-queue-row]") : null;
    if (row) { current = row.id; }
  });

  // The row was replaced by the server's answer: put focus back on its new element.
  function restore() {
    if (!current) { return; }
    var row = document.getElementById(current);
    if (row && !row.contains(document.activeElement)) { focusRow(row); }
  }
  document.addEventListener("htmx:after:swap", restore);
  document.addEventListener("htmx:after:settle", restore);

  // Opened at #row-42 (after "Take the next post"): start there.
  document.addEventListener("DOMContentLoaded", function () {
    var hash = window.location.hash.slice(1);
    if (hash && document.getElementById(hash)) { focusRow(document.getElementById(hash)); }
  });
})();
