"""The HTTP transport: a small server on 127.0.0.1 that hands blocks to a rig and takes its answers.

Standard library only (``http.server``). It serves the run folder's block exchange
(:mod:`.folder`) and nothing else:

``GET /status``
    ``{"status": "running" | "complete" | ..., "pending": [block numbers]}``
``GET /blocks``
    The manifests of the blocks waiting for a response (a JSON list).
``GET /blocks/<n>``
    One manifest (404 if block ``n`` was never shown).
``GET /images/<file>``
    One image of ``stimuli/``; ``<file>`` must be ``blockBBBBBB_<id>.png`` with a safe id
    (no ``%``-escapes, no ``/``, no ``..``), a regular file (not a symlink) inside ``stimuli/``.
``POST /responses/<n>``
    The response file for block ``n`` as the body; ``Content-Type`` ``text/csv``,
    ``application/json`` or ``application/x-hdf5`` (or ``?format=csv|json|h5``). It is checked
    with the same rules as a file (:mod:`.protocol`) and written atomically to
    ``responses/blockBBBBBB.<ext>`` *before* the reply: 201 when stored, 400 with the reason
    when invalid (nothing stored, so a corrected file can be posted), 404 for a block never
    shown, 409 when the block already has a response (nothing is counted twice), 413 when too
    large. While an experiment runs, "invalid" means everything the experiment checks: the
    block's ids and repeats, and its channel count (fixed by the first answered block or by
    ``n_channels``) and channel selection (:meth:`HTTPTransport.validate_with`), so a 201 is
    never followed by the experiment refusing the file.

Security: the server binds 127.0.0.1 unless another address is asked for explicitly; while
bound to loopback it also refuses requests whose ``Host`` header is not a loopback name (a web
page cannot reach it through DNS rebinding). It never maps a URL onto a path outside
``stimuli/`` and never follows symbolic links.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import re
import stat
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from ..io import atomic_write_bytes, dumps_json, read_json
from .folder import RESPONSES, STIMULI, pending_blocks, read_manifest, response_candidates
from .protocol import MAX_RESPONSE_BYTES, LiveError, ResponseError, ResponseTable, block_name, parse_response

IMAGE_PATH = re.compile(r"/images/(block\d{6}_[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\.png)")
BLOCK_PATH = re.compile(r"/blocks/(\d{1,6})")
RESPONSE_PATH = re.compile(r"/responses/(\d{1,6})")
CONTENT_TYPES = {"text/csv": "csv", "application/json": "json", "application/x-hdf5": "h5"}
EXTENSIONS = {"csv": ".csv", "json": ".json", "h5": ".h5"}
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


#: how an upload is checked: ``check(data, fmt, source, block, manifest) -> ResponseTable``, raising
#: :class:`ResponseError`; the experiment gives its own (its channel count and selection too)
UploadCheck = Callable[[bytes, str, str, int, dict], ResponseTable]


def manifest_check(data: bytes, fmt: str, source: str, block: int, manifest: dict) -> ResponseTable:
    """Check an upload against its block's manifest alone (ids and repeats; any channel count)."""
    return parse_response(data, fmt, source, block, [img["id"] for img in manifest["images"]],
                          int(manifest["repeats"]))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # a resumed run takes its recorded port back at once
    # socketserver's default listen backlog of 5 dropped connections under load: 28 of 1,000
    # GETs timed out with 100 clients at once. The kernel caps this at net.core.somaxconn.
    request_queue_size = 1024

    def __init__(self, address, handler, run_dir: Path, check: UploadCheck):
        self.run_dir = Path(run_dir)
        self.check = check
        self.stimuli = (self.run_dir / STIMULI).resolve()
        self.loopback = is_loopback(address[0])
        self.upload_lock = threading.Lock()
        self.status_served = 0.0  # monotonic time of the last /status answer
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "landscape-live/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # keep the experiment's terminal readable
        pass

    # -- helpers --------------------------------------------------------------------------
    def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, code: int, obj) -> None:
        self._send(code, (dumps_json(obj, indent=None) + "\n").encode())

    def _error(self, code: int, message: str) -> None:
        self._json(code, {"error": message})

    def _host_ok(self) -> bool:
        if not self.server.loopback:
            return True
        host = self.headers.get("Host", "")
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        return name in LOOPBACK_NAMES

    def _route(self) -> str | None:
        if not self._host_ok():
            self._error(403, "this server only answers requests addressed to a loopback host name")
            return None
        raw = self.path
        if not raw.startswith("/"):  # absolute-form or garbage request targets
            self._error(400, "request target must be a path")
            return None
        return urlsplit(raw).path

    def _guarded(self, method) -> None:
        try:
            method()
        except (ConnectionError, TimeoutError):
            pass  # the client went away
        except Exception as e:  # a damaged manifest or a full disk: say so instead of dropping the line
            try:
                self._error(500, f"{type(e).__name__}: {e}")
            except OSError:
                pass

    def do_GET(self) -> None:
        self._guarded(self._get)

    def do_POST(self) -> None:
        self._guarded(self._post)

    # -- GET ------------------------------------------------------------------------------
    def _get(self) -> None:
        path = self._route()
        if path is None:
            return
        run_dir = self.server.run_dir
        if path == "/status":
            try:
                status = read_json(run_dir / "meta.json").get("status")
            except (OSError, ValueError):
                status = None
            self._json(200, {"status": status, "pending": pending_blocks(run_dir)})
            self.server.status_served = time.monotonic()
            return
        if path == "/blocks":
            self._json(200, [read_manifest(run_dir, b) for b in pending_blocks(run_dir)])
            return
        m = BLOCK_PATH.fullmatch(path)
        if m:
            manifest = read_manifest(run_dir, int(m.group(1)))
            if manifest is None:
                self._error(404, f"block {int(m.group(1))} has not been shown")
            else:
                self._json(200, manifest)
            return
        m = IMAGE_PATH.fullmatch(path)
        if m and ".." not in m.group(1):
            data = self._read_image(m.group(1))
            if data is None:
                self._error(404, "no such image")
            else:
                self._send(200, data, "image/png")
            return
        self._error(404, "not found; this server answers /status, /blocks, /blocks/<n>, /images/<file> "
                         "and POST /responses/<n>")

    do_HEAD = do_GET

    def _read_image(self, name: str) -> bytes | None:
        folder = self.server.stimuli
        target = folder / name
        if target.parent != folder:
            return None
        try:
            fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return None
            return f.read()

    # -- POST -----------------------------------------------------------------------------
    def _post(self) -> None:
        path = self._route()
        if path is None:
            return
        m = RESPONSE_PATH.fullmatch(path)
        if not m:
            self._error(404, "responses are posted to /responses/<block number>")
            return
        block = int(m.group(1))
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._error(411, "a Content-Length header is required")
            return
        if int(length) > MAX_RESPONSE_BYTES:
            self._error(413, f"response is {length} bytes; the limit is {MAX_RESPONSE_BYTES}")
            self.close_connection = True
            return
        data = self.rfile.read(int(length))
        query = parse_qs(urlsplit(self.path).query)
        fmt = query.get("format", [None])[0] or CONTENT_TYPES.get(
            (self.headers.get("Content-Type") or "").split(";")[0].strip().lower())
        if fmt not in EXTENSIONS:
            self._error(400, "say the format: Content-Type text/csv, application/json or application/x-hdf5, "
                             "or ?format=csv|json|h5")
            return
        run_dir = self.server.run_dir
        manifest = read_manifest(run_dir, block)
        if manifest is None:
            self._error(404, f"block {block} has not been shown")
            return
        source = f"upload for block {block}"
        try:  # everything the experiment will hold the file to, so that a 201 is never taken back
            self.server.check(data, fmt, source, block, manifest)
        except ResponseError as e:
            self._error(400, f"{e}; nothing was stored: correct it and post it again")
            return
        with self.server.upload_lock:
            if response_candidates(run_dir, block):
                self._error(409, f"block {block} already has a response; nothing was stored")
                return
            target = run_dir / RESPONSES / f"{block_name(block)}{EXTENSIONS[fmt]}"
            try:
                atomic_write_bytes(target, data)
            except OSError as e:
                code = 507 if e.errno == errno.ENOSPC else 500
                self._error(code, f"could not store the response ({e.strerror or e}); send it again later")
                return
        self._json(201, {"stored": f"{RESPONSES}/{target.name}"})


class HTTPTransport:
    """Serve a run's blocks over HTTP (see the module docstring).

    Parameters
    ----------
    host : str
        Address to bind; 127.0.0.1 unless you mean to expose the experiment to a network.
    port : int
        0 picks a free port; a resumed run passes the recorded one.
    linger : float
        Seconds the server stays up after the run completes, until the rig has asked for
        ``/status`` and so learnt that the run is over.

    Attributes
    ----------
    url : str
        ``http://host:port`` once attached.
    """

    kind = "http"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, linger: float = 2.0) -> None:
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an integer in 0..65535, got {port!r}")
        self.host, self.port, self.linger = host, port, float(linger)
        self.check: UploadCheck = manifest_check
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise LiveError("the HTTP transport is not running; call attach(run_dir) first")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    def validate_with(self, check: UploadCheck) -> None:
        """Check uploads with ``check`` (the experiment's own rules) before answering 201.

        :func:`landscape.live.experiment.run_experiment` calls this before :meth:`attach`, so
        an upload with the wrong channel count, or one the channel selection cannot use, is
        answered 400 and not stored; the rig can post a corrected one.
        """
        self.check = check
        if self._server is not None:
            self._server.check = check

    def attach(self, run_dir: Path) -> None:
        """Start serving ``run_dir`` (no-op if already serving it)."""
        if self._server is not None:
            if self._server.run_dir != Path(run_dir):
                raise LiveError(f"this transport already serves {self._server.run_dir}")
            return
        if not is_loopback(self.host):
            print(f"landscape.live: serving {run_dir} on {self.host}:{self.port or '(any port)'}, which is not "
                  "a loopback address: other machines can reach it", file=sys.stderr)
        try:
            self._server = _Server((self.host, self.port), _Handler, Path(run_dir), self.check)
        except OSError as e:
            raise LiveError(f"cannot serve on {self.host}:{self.port} ({e.strerror or e}); pass another port") from e
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="landscape-live-http", daemon=True)
        self._thread.start()

    def finish(self) -> None:
        """The run is over: keep serving until the rig has asked for ``/status`` (at most ``linger`` s)."""
        if self._server is None:
            return
        t0 = time.monotonic()
        while self._server.status_served < t0 and time.monotonic() - t0 < self.linger:
            time.sleep(0.01)

    def detach(self) -> None:
        """Stop serving (responses already stored stay on disk)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def describe(self) -> dict:
        return {"kind": self.kind, "host": self.host, "port": self.port}

    def __repr__(self) -> str:
        return f"HTTPTransport(host={self.host!r}, port={self.port})"
