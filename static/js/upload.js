/* ContentFlow direct uploads: the file goes from the browser straight to storage
 * (S3 presigned POST, or the app's own signed URL in embedded mode), never through
 * our web processes. No framework, no inline script (CSP script-src 'self').
 *
 * Markup (the page still needs a no-JS fallback of its own):
 *   <input type="file"
 *          data-upload-ticket="/campaigns/42/assets/ticket"   POST -> JSON ticket
 *          data-upload-confirm="/campaigns/42/assets"         POST key -> HTML fragment
 *          data-upload-kind="video"
 *          data-upload-target="#assets"        where the fragment goes (default: status element)
 *          data-upload-swap="beforeend"        innerHTML (default) | beforeend | afterbegin | outerHTML
 *          data-upload-progress="#asset-progress"   a <progress> element (optional)
 *          data-upload-status="#asset-status">      a role=status element (optional)
 *
 * Ticket request (form-encoded, with the page's CSRF header): kind, filename,
 * content_type, size_bytes. Answer: {"url", "fields", "key", "expires_at", "max_bytes"},
 * or an error {"error": {"message"}} with a 4xx status.
 * Confirm request (form-encoded): key, kind, filename, size_bytes. Its HTML answer
 * (success, or a 422 error fragment) is swapped into the target.
 * Events on the input: "upload:done" {key}, "upload:failed" {message}.
 */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { return meta.getAttribute("content"); }
    var headers = document.body && document.body.getAttribute("hx-headers:inherited");
    try { return headers ? JSON.parse(headers)["X-CSRFToken"] : null; } catch (error) { return null; }
  }

  function find(input, attribute) {
    var selector = input.getAttribute(attribute);
    return selector ? document.querySelector(selector) : null;
  }

  function say(input, message) {
    var status = find(input, "data-upload-status");
    if (status) { status.textContent = message; }
  }

  function errorMessage(response, fallback) {
    return response.json().then(function (body) {
      return (body && body.error && body.error.message) || fallback;
    }, function () { return fallback; });
  }

  function post(url, values, accept) {
    var headers = { "Accept": accept };
    // The confirm answer is swapped into the page: ask for the fragment, as htmx would.
    if (accept === "text/html") { headers["HX-Request"] = "true"; headers["HX-Request-Type"] = "partial"; }
    var token = csrfToken();
    if (token) { headers["X-CSRFToken"] = token; }
    return fetch(url, {
      method: "POST", credentials: "same-origin", headers: headers, body: new URLSearchParams(values),
    });
  }

  function requestTicket(input, file) {
    return post(input.getAttribute("data-upload-ticket"), {
      kind: input.getAttribute("data-upload-kind") || "",
      filename: file.name, content_type: file.type, size_bytes: String(file.size),
    }, "application/json").then(function (response) {
      if (response.ok) { return response.json(); }
      return errorMessage(response, "The upload could not start.").then(function (message) {
        throw new Error(message);
      });
    });
  }

  function sendFile(input, ticket, file) {
    var progress = find(input, "data-upload-progress");
    return new Promise(function (resolve, reject) {
      var form = new FormData();
      Object.keys(ticket.fields).forEach(function (name) { form.append(name, ticket.fields[name]); });
      form.append("file", file);  // S3 requires the file to be the last field
      var request = new XMLHttpRequest();
      request.open("POST", ticket.url);
      request.setRequestHeader("Accept", "application/json");
      request.upload.addEventListener("progress", function (event) {
        if (progress && event.lengthComputable) {
          progress.max = event.total;
          progress.value = event.loaded;
        }
      });
      request.addEventListener("load", function () {
        if (request.status >= 200 && request.status < 300) { resolve(); return; }
        reject(new Error(request.status === 413 ? "The file is too large."
          : request.status === 410 ? "The upload took too long. Please try again."
          : "The upload was refused (" + request.status + ")."));
      });
      request.addEventListener("error", function () {
        reject(new Error(navigator.onLine ? "The upload did not go through. Please try again."
                                          : "You are offline. Reconnect and try again."));
      });
      if (progress) { progress.hidden = false; progress.removeAttribute("value"); }
      request.send(form);
    });
  }

  function confirmUpload(input, ticket, file) {
    return post(input.getAttribute("data-upload-confirm"), {
      key: ticket.key, kind: input.getAttribute("data-upload-kind") || "",
      filename: file.name, size_bytes: String(file.size),
    }, "text/html").then(function (response) {
      return response.text().then(function (html) {
        swapIn(input, html);
        if (!response.ok) { throw new Error(""); }
      });
    });
  }

  function swapIn(input, html) {
    var target = find(input, "data-upload-target") || find(input, "data-upload-status");
    if (!target) { return; }
    var swap = input.getAttribute("data-upload-swap") || "innerHTML";
    var parent = target.parentElement;
    // The fragment is rendered by our own server (Jinja autoescaped), never by the client.
    if (swap === "beforeend" || swap === "afterbegin") {
      target.insertAdjacentHTML(swap, html);
    } else if (swap === "outerHTML") {
      target.outerHTML = html;
      target = parent;
    } else {
      target.innerHTML = html;
    }
    if (window.htmx && target && typeof window.htmx.process === "function") { window.htmx.process(target); }
  }

  function uploadOne(input, file) {
    say(input, "Uploading " + file.name + "…");
    return requestTicket(input, file)
      .then(function (ticket) {
        return sendFile(input, ticket, file).then(function () {
          say(input, "Checking " + file.name + "…");
          return confirmUpload(input, ticket, file);
        }).then(function () {
          say(input, file.name + " uploaded.");
          input.dispatchEvent(new CustomEvent("upload:done", { bubbles: true, detail: { key: ticket.key } }));
        });
      });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches('input[type="file"][data-upload-ticket]') || !input.files.length) {
      return;
    }
    var files = Array.prototype.slice.call(input.files);
    var progress = find(input, "data-upload-progress");
    input.disabled = true;
    // One file after another: phones on mobile data do better with one stream.
    files.reduce(function (previous, file) {
      return previous.then(function () { return uploadOne(input, file); });
    }, Promise.resolve())
      .catch(function (error) {
        if (error.message) { say(input, error.message); }
        input.dispatchEvent(new CustomEvent("upload:failed", { bubbles: true, detail: { message: error.message } }));
      })
      .then(function () {
        input.disabled = false;
        input.value = "";
        if (progress) { progress.hidden = true; }
      });
  });
})();
