"""static/js/upload.js in headless Chromium, under the real CSP: a file picked in an
``<input data-upload-...>`` goes straight to storage (moto over HTTP across origins, or
the app's signed local URL), is confirmed by the server, and the server's fragment is
swapped in; a refused file shows the server's message and nothing is stored.

The page and its two endpoints are a stand-in for the campaign screens (issue 4) and
show how those are meant to call ``app.storage``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Blueprint, jsonify, render_template_string, request
from playwright.sync_api import expect

from app.storage import get_storage
from tests.conftest import LiveServer
from tests.storage.conftest import make_app

pytestmark = pytest.mark.e2e

PREFIX = "campaigns/1/assets"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Upload</title></head>
<body hx-headers:inherited='{"X-CSRFToken": {{ csrf_token()|tojson }}}'>
  <label for="file">Raw footage</label>
  <input id="file" type="file" multiple accept="video/mp4,video/quicktime,video/webm"
         data-upload-ticket="{{ url_for('upload_harness.ticket') }}"
         data-upload-confirm="{{ url_for('upload_harness.confirm') }}"
         data-upload-kind="video" data-upload-target="#assets" data-upload-swap="beforeend"
         data-upload-progress="#progress" data-upload-status="#status">
  <progress id="progress" hidden></progress>
  <p id="status" role="status"></p>
  <ul id="assets"></ul>
  <script src="{{ url_for('static', filename='js/upload.js') }}"></script>
</body></html>"""

harness = Blueprint("upload_harness", __name__, url_prefix="/_upload-test")


@harness.get("/")
def page():
    return render_template_string(PAGE)


@harness.post("/ticket")
def ticket():
    storage = get_storage()
    key = storage.new_key(PREFIX, request.form.get("filename"))
    size = request.form.get("size_bytes", "")
    issued = storage.presign_upload(key, request.form.get("kind", ""), request.form.get("content_type"),
                                    int(size) if size.isdigit() else None)
    return jsonify(issued.as_json())


@harness.post("/confirm")
def confirm():
    stored = get_storage().confirm_upload(request.form["key"], prefix=PREFIX, kind=request.form["kind"],
                                          expected_size=int(request.form["size_bytes"]))
    return render_template_string(
        '<li data-key="{{ s.key }}">{{ name }} — {{ s.size_bytes }} bytes, {{ s.content_type }}</li>',
        s=stored, name=request.form["filename"],
    )


CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
}, true);
"""


@pytest.fixture(scope="module", params=["local", "s3"])
def upload_site(request, tmp_path_factory) -> Iterator[tuple[str, object]]:
    if request.param == "s3":
        from tests.storage.conftest import BUCKET

        endpoint = request.getfixturevalue("moto_endpoint")
        app = make_app(STORAGE_BACKEND="s3", S3_BUCKET=BUCKET, S3_ENDPOINT_URL=endpoint)
    else:
        app = make_app(STORAGE_BACKEND="local", UPLOAD_DIR=str(tmp_path_factory.mktemp("js-uploads")))
    app.register_blueprint(harness)
    server = LiveServer(app).start()
    yield server.url, app
    server.stop()


@pytest.fixture
def upload_page(page, upload_site):
    url, app = upload_site
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.add_init_script(CSP_LISTENER)
    page.goto(url + "/_upload-test/")
    yield page, app, errors
    assert page.evaluate("window.__cspViolations") == []


def stored_keys(app, page) -> list[str]:
    keys = page.locator("#assets li").evaluate_all("items => items.map(item => item.dataset.key)")
    with app.test_request_context("/"):
        storage = get_storage()
        return [key for key in keys if storage.exists(key)]


def test_a_picked_video_goes_to_storage_and_the_confirmed_fragment_is_shown(upload_page):
    page, app, errors = upload_page
    content = b"\x00\x00\x00\x18ftypmp42" + b"v" * 50_000

    page.set_input_files("#file", files=[
        {"name": "Teaser <final>.mp4", "mimeType": "video/mp4", "buffer": content},
        {"name": "b-roll.mov", "mimeType": "video/quicktime", "buffer": b"moov" * 10},
    ])

    expect(page.locator("#status")).to_have_text("b-roll.mov uploaded.")
    items = page.locator("#assets li")
    expect(items).to_have_count(2)
    expect(items.first).to_have_text(f"Teaser <final>.mp4 — {len(content)} bytes, video/mp4")
    assert len(stored_keys(app, page)) == 2
    expect(page.locator("#progress")).to_be_hidden()
    expect(page.locator("#file")).to_be_enabled()
    assert errors == []


def test_a_file_of_the_wrong_type_is_refused_with_the_servers_message(upload_page):
    page, _, _ = upload_page

    page.set_input_files("#file", files=[{"name": "page.html", "mimeType": "text/html", "buffer": b"<h1>x</h1>"}])

    expect(page.locator("#status")).to_contain_text("This video type is not accepted")
    expect(page.locator("#assets li")).to_have_count(0)
