"""Storage test harness: a real moto S3 server on a free loopback port (session-wide),
and one app per backend. Each test gets a ``Backend`` that uploads and downloads the
way a browser would: over HTTP to moto for S3, through the Flask test client for local
disk. The apps need no database; local files go to a per-session temporary directory.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests
from flask import Flask

from app.storage import Storage, UploadTicket, get_storage
from tests.conftest import TEST_CONFIG

BUCKET = "contentflow-test-media"
# Small limits so "too large" costs a few KiB, not gigabytes.
KIND_LIMITS = {"UPLOAD_MAX_VIDEO_BYTES": 64 * 1024, "UPLOAD_MAX_IMAGE_BYTES": 16 * 1024,
               "UPLOAD_MAX_DOCUMENT_BYTES": 16 * 1024}
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def aws_credentials() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in AWS_ENV}
    os.environ.update(AWS_ENV)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def moto_endpoint(aws_credentials) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


def make_app(**config: Any) -> Flask:
    from app import create_app

    return create_app({**TEST_CONFIG, **KIND_LIMITS, **config})


@pytest.fixture(scope="session")
def s3_app(moto_endpoint) -> Flask:
    return make_app(STORAGE_BACKEND="s3", S3_BUCKET=BUCKET, S3_ENDPOINT_URL=moto_endpoint, S3_REGION="us-east-1")


@pytest.fixture(scope="session")
def local_app(tmp_path_factory) -> Flask:
    return make_app(STORAGE_BACKEND="local", UPLOAD_DIR=str(tmp_path_factory.mktemp("uploads")))


@dataclass
class Response:
    status: int
    headers: Any
    body: bytes


class Backend:
    """One backend as the browser and the server both see it."""

    def __init__(self, name: str, app: Flask):
        self.name = name
        self.app = app
        self.client = app.test_client()

    @property
    def storage(self) -> Storage:
        return get_storage()

    def post_form(self, url: str, fields: dict[str, str], content: bytes, *,
                  filename: str = "clip.bin", part_type: str = "application/octet-stream") -> Response:
        """POST ``fields`` then ``file`` as multipart/form-data, as a browser's FormData does."""
        if self.name == "s3":
            reply = requests.post(url, data=fields, files={"file": (filename, content, part_type)}, timeout=10)
            return Response(reply.status_code, reply.headers, reply.content)
        import io

        data: dict[str, Any] = dict(fields)
        data["file"] = (io.BytesIO(content), filename, part_type)
        reply = self.client.post(url, data=data, content_type="multipart/form-data")
        return Response(reply.status_code, reply.headers, reply.get_data())

    def upload(self, ticket: UploadTicket, content: bytes, **overrides: str) -> Response:
        return self.post_form(ticket.url, {**ticket.fields, **overrides}, content)

    def get(self, url: str) -> Response:
        if self.name == "s3":
            reply = requests.get(url, timeout=10)
            return Response(reply.status_code, reply.headers, reply.content)
        reply = self.client.get(url)
        return Response(reply.status_code, reply.headers, reply.get_data())


@pytest.fixture(params=["local", "s3"])
def backend(request) -> Iterator[Backend]:
    app = request.getfixturevalue(f"{request.param}_app")
    with app.test_request_context("/"):
        yield Backend(request.param, app)


@pytest.fixture
def local(local_app) -> Iterator[Backend]:
    with local_app.test_request_context("/"):
        yield Backend("local", local_app)


@pytest.fixture
def s3(s3_app) -> Iterator[Backend]:
    with s3_app.test_request_context("/"):
        yield Backend("s3", s3_app)
