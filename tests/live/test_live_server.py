"""The HTTP transport: loopback only, serves only the image folder, checks uploads like files (crafted requests)."""

from __future__ import annotations

import json
import os
import socket

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from landscape.live.folder import RESPONSES, STIMULI, write_block
from landscape.live.protocol import encode_response
from landscape.live.server import HTTPTransport, is_loopback

SECRET = b"SECRET-meta-contents-42"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    run = tmp_path_factory.mktemp("srv") / "run"
    (run / RESPONSES).mkdir(parents=True)
    (run / "meta.json").write_bytes(b'{"status": "running", "x": "' + SECRET + b'"}')
    (run.parent / "outside.png").write_bytes(SECRET)
    images = torch.rand(3, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    write_block(run, 0, 0, ["g000000_i000", "ref_000", "g000000_i001"], [False, True, False], images,
                np.zeros((2, 4), np.float32), repeats=1)
    # a symlink that looks like an image of the block but points out of the folder
    os.symlink(run / "meta.json", run / STIMULI / "block000000_evil.png")
    os.symlink(run.parent / "outside.png", run / STIMULI / "block000000_out.png")
    t = HTTPTransport(linger=0)
    t.attach(run)
    yield t, run
    t.detach()


def raw(t: HTTPTransport, request: bytes) -> tuple[int, bytes]:
    """Send bytes as they are (no client-side normalisation of the path) and return (status, body)."""
    with socket.create_connection(("127.0.0.1", t.port), timeout=5) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def get(t, path: str | bytes, host: bytes = b"127.0.0.1") -> tuple[int, bytes]:
    p = path.encode("latin-1") if isinstance(path, str) else path
    return raw(t, b"GET " + p + b" HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n")


def post(t, path: str, body: bytes, ctype: str = "text/csv", length: int | None = None) -> tuple[int, bytes]:
    n = len(body) if length is None else length
    return raw(t, (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {ctype}\r\nContent-Length: {n}\r\n"
                   "Connection: close\r\n\r\n").encode() + body)


def test_binds_loopback_by_default(served):
    t, _ = served
    assert t.host == "127.0.0.1" and t._server.server_address[0] == "127.0.0.1"
    assert t.url == f"http://127.0.0.1:{t.port}"
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


def test_serves_images_manifests_and_status(served):
    t, run = served
    code, body = get(t, "/images/block000000_g000000_i000.png")
    assert code == 200 and body == (run / STIMULI / "block000000_g000000_i000.png").read_bytes()
    code, body = get(t, "/blocks")
    assert code == 200 and [m["block"] for m in json.loads(body)] == [0]
    code, body = get(t, "/blocks/0")
    assert code == 200 and json.loads(body)["images"][1]["id"] == "ref_000"
    assert get(t, "/blocks/7")[0] == 404
    code, body = get(t, "/status")
    assert json.loads(body) == {"status": "running", "pending": [0]}


CRAFTED = [
    "/images/../meta.json", "/images/..%2fmeta.json", "/images/%2e%2e/meta.json", "/images/%2e%2e%2fmeta.json",
    "/../meta.json", "/meta.json", "//etc/passwd", "/images//etc/passwd", "/images/block000000_evil.png",
    "/images/block000000_out.png", "/images/block000000_g000000_i000.png/../../meta.json",
    "/images/..\\meta.json", "/images/block000000_..png", "/images/block000000_x%00.png", "/images/",
    "/images/block000000.json", "/stimuli/block000000_g000000_i000.png", "/images/../../outside.png",
    "http://127.0.0.1/images/../meta.json", "*", "/images/block000000_g000000_i000.png%2f..%2f..%2fmeta.json",
]


@pytest.mark.parametrize("path", CRAFTED)
def test_crafted_paths_never_leave_the_image_folder(served, path):
    code, body = get(served[0], path)
    assert code in (400, 403, 404) and SECRET not in body


def test_requests_for_other_host_names_are_refused(served):
    t, _ = served
    assert get(t, "/status", host=b"evil.example:80")[0] == 403
    assert get(t, "/status", host=b"localhost:1")[0] == 200


@given(st.text(alphabet="/.%2e5cfABZ_-0\\x:?#=", min_size=1, max_size=60))
@settings(max_examples=120, deadline=None, database=None)
def test_fuzzed_paths_serve_only_block_images(served, tail):
    t, run = served
    code, body = get(t, "/" + tail)
    assert SECRET not in body
    if code == 200:
        allowed = {p.read_bytes() for p in (run / STIMULI).glob("*.png") if not p.is_symlink()}
        assert body in allowed or body.startswith((b"{", b"["))


def test_uploads_are_checked_stored_once_and_never_overwritten(served):
    t, run = served
    ids = ["g000000_i000", "ref_000"]
    bad = encode_response("csv", 0, ids, np.array([1.0, np.nan]))
    code, body = post(t, "/responses/0", bad)
    assert code == 400 and b"finite" in body and not list((run / RESPONSES).iterdir())
    assert post(t, "/responses/0", b"{}", ctype="application/octet-stream")[0] == 400
    assert post(t, "/responses/5", encode_response("csv", 5, ids, np.ones(2)))[0] == 404
    assert post(t, "/responses/../../x", b"")[0] == 404
    assert post(t, "/responses/0", b"x", length=10**9)[0] == 413
    good = encode_response("json", 0, ids, np.ones(2))
    code, body = post(t, "/responses/0", good, ctype="application/json")
    assert code == 201 and (run / RESPONSES / "block000000.json").read_bytes() == good
    code, body = post(t, "/responses/0", encode_response("json", 0, ids, np.zeros(2)), ctype="application/json")
    assert code == 409 and (run / RESPONSES / "block000000.json").read_bytes() == good
    assert json.loads(get(t, "/status")[1])["pending"] == []
