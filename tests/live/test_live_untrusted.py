"""Hostile response files and uploads (issue 16): refused by name, before any value is read; the process lives.

Crafted HDF5 files are parsed in a child process, so that a crash of the HDF5 library (one of
these files made it exit 139) fails a test instead of killing pytest. The child reports, per
file, the error and how far reading it raised the process's peak memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

from crafted_h5 import ATTACKS, block_ids
from landscape.live.folder import RESPONSES, read_manifest, response_candidates
from landscape.live.protocol import (MAX_RESPONSE_CHANNELS, ResponseError, ResponseTooLargeError, encode_response,
                                     parse_response)
from live_support import generation_files, tiny_generator

CHILD = textwrap.dedent("""
    import json, resource, sys
    from pathlib import Path
    from landscape.live.protocol import parse_response
    folder = Path(sys.argv[1])
    for path in sorted(folder.glob("*.h5")):
        ids = json.loads(path.with_suffix(".json").read_text())
        data = path.read_bytes()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            t = parse_response(data, "h5", path.stem, 0, ids, repeats=1)
            out = {"error": None, "message": f"accepted: {t.values.shape}"}
        except Exception as e:
            out = {"error": type(e).__name__, "message": str(e)}
        out["peak_growth_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        print(json.dumps({path.stem: out}), flush=True)
""")


@pytest.fixture(scope="module")
def parsed_in_child(tmp_path_factory):
    """Every crafted file parsed by a fresh process: {attack: result}, the exit status and the sizes."""
    folder = tmp_path_factory.mktemp("crafted")
    names, sizes = {}, {}
    for k, (name, (build, n, _, _)) in enumerate(ATTACKS.items()):
        ids = block_ids(n)
        data = build(ids)
        (folder / f"a{k:02d}.h5").write_bytes(data)
        (folder / f"a{k:02d}.json").write_text(json.dumps(ids))
        names[f"a{k:02d}"], sizes[name] = name, len(data)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(folder)], capture_output=True, text=True, timeout=600)
    results = {}
    for line in proc.stdout.splitlines():
        for stem, r in json.loads(line).items():
            results[names[stem]] = r
    return results, proc, sizes


@pytest.mark.slow
@pytest.mark.parametrize("attack", list(ATTACKS))
def test_crafted_hdf5_is_refused_by_name_before_reading(parsed_in_child, attack):
    results, proc, sizes = parsed_in_child
    assert proc.returncode == 0, f"the parsing process died (exit {proc.returncode}): {proc.stderr[-2000:]}"
    r = results[attack]
    _, _, error, words = ATTACKS[attack]
    assert r["error"] == error and words in r["message"], r
    # nothing was decoded: the biggest of these would take 88 to 400 MB once read
    assert r["peak_growth_mb"] < 40, (attack, sizes[attack], r)


def test_every_response_format_caps_rows_and_channels():
    ids = block_ids(4)
    many = [ids[k % 4] for k in range(9)]  # 9 rows for 4 images x 2 repeats
    for fmt in ("csv", "json", "h5"):
        with pytest.raises(ResponseTooLargeError, match="at least 9 rows.*at most 8 rows"):
            parse_response(encode_response(fmt, 0, many, np.ones(9)), fmt, "f", 0, ids, repeats=2)
        wide = encode_response(fmt, 0, ids, np.zeros((4, MAX_RESPONSE_CHANNELS + 1)))
        with pytest.raises(ResponseTooLargeError, match=f"{MAX_RESPONSE_CHANNELS + 1} channels.*n_channels"):
            parse_response(wide, fmt, "f", 0, ids)
        # the experiment can ask for more channels than the cap, and then gets them
        t = parse_response(wide, fmt, "f", 0, ids, n_channels=MAX_RESPONSE_CHANNELS + 1)
        assert t.values.shape == (4, MAX_RESPONSE_CHANNELS + 1)
        with pytest.raises(ResponseError, match="has 3 channel.*records 2: wrong channel count"):
            parse_response(encode_response(fmt, 0, ids, np.zeros((4, 3))), fmt, "f", 0, ids, n_channels=2)


def test_allowed_filters_still_read():
    import io

    import h5py

    ids = block_ids(6)
    vals = np.random.default_rng(0).normal(size=(6, 3))
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        # fixed-length ids (HDF5 refuses filters on variable-length strings)
        f.create_dataset("image_id", data=np.asarray(ids, dtype="S16"), compression="gzip", shuffle=True,
                         fletcher32=True, chunks=(2,))
        f.create_dataset("response", data=vals, compression="gzip", shuffle=True, fletcher32=True, chunks=(2, 3))
        f.create_dataset("presentation", data=np.zeros(6, np.int32), compression="gzip", chunks=(3,))
    t = parse_response(buf.getvalue(), "h5", "f", 0, ids)
    assert list(t.image_ids) == ids and np.array_equal(t.values, vals) and t.presentation.tolist() == [0] * 6


# --------------------------------------------------------------------------------------
# a crafted file in a live run: the experiment stops with the reason, and goes on once replaced
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_crafted_file_stops_the_run_cleanly_and_a_replaced_one_resumes_it(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(__import__("pathlib").Path(__file__).parent)!r})
        from crafted_h5 import vds_external
        from live_support import ThreadRig, tiny_generator
        from landscape.live.experiment import run_experiment
        from landscape.live.protocol import UnsafeResponseError
        from landscape.optim.ga import GA
        def respond(m, images):
            return vds_external([i["id"] for i in m["images"]])
        with ThreadRig(sys.argv[1], respond, fmt="h5"):
            try:
                run_experiment(tiny_generator(), GA(8, population=4, seed=1, nan_policy="worst"), 8, sys.argv[1],
                               seed=0, poll_interval=0.002, settle=0.0, timeout=20, progress=False)
            except UnsafeResponseError as e:
                print("REFUSED:", e)
                sys.exit(3)
    """)
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-c", script, str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 3, (proc.returncode, proc.stderr[-2000:])  # was 139, meta.json left "running"
    assert "virtual dataset" in proc.stdout and "block000000.h5" in proc.stdout
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "failed" and "UnsafeResponseError" in meta["error"]
    # the rig's bad file is replaced by a good one: the same run resumes and completes
    (bad,) = response_candidates(out, 0)
    ids = [i["id"] for i in read_manifest(out, 0)["images"]]
    bad.write_bytes(encode_response("h5", 0, ids, np.arange(len(ids), dtype=float)))
    from landscape.live.experiment import run_experiment
    from landscape.optim.ga import GA
    from live_support import ChannelMean, ThreadRig

    def respond(m, images):
        return encode_response("csv", m["block"], [i["id"] for i in m["images"]],
                               ChannelMean(0).clean(images).numpy())

    with ThreadRig(out, respond):
        run = run_experiment(tiny_generator(), GA(8, population=4, seed=1, nan_policy="worst"), 8, out, seed=0,
                             poll_interval=0.002, settle=0.0, timeout=20, progress=False, resume=True)
    assert run.meta["status"] == "complete" and len(generation_files(out)) == 2
    assert np.array_equal(run.scores[0], np.arange(4, dtype=float))  # block 0 as the replaced file says


# --------------------------------------------------------------------------------------
# HTTP uploads: held to the experiment's rules before a 201, and correctable
# --------------------------------------------------------------------------------------
def _post(url: str, block: int, data: bytes) -> tuple[int, str]:
    req = urllib.request.Request(f"{url}/responses/{block}", data=data, method="POST",
                                 headers={"Content-Type": "text/csv"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def _http_rig(transport, answer, log, stop):
    """Answer each pending block over HTTP with ``answer(manifest, attempt)`` until it is stored."""
    while transport._server is None and not stop.is_set():
        time.sleep(0.002)
    url = transport.url
    while not stop.is_set():
        try:
            with urllib.request.urlopen(f"{url}/blocks", timeout=10) as r:
                manifests = json.loads(r.read())
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.01)
            continue
        for m in manifests:
            attempt = sum(1 for b, *_ in log if b == m["block"])
            code, body = _post(url, m["block"], answer(m, attempt))
            log.append((m["block"], attempt, code, body))
        time.sleep(0.003)


def _live_over_http(out, answer, **kw):
    from landscape.live.experiment import run_experiment
    from landscape.live.server import HTTPTransport
    from landscape.optim.ga import GA

    transport = HTTPTransport(linger=0)
    log, stop = [], threading.Event()
    th = threading.Thread(target=_http_rig, args=(transport, answer, log, stop), daemon=True)
    th.start()
    try:
        run = run_experiment(tiny_generator(), GA(8, population=4, seed=1, nan_policy="worst"), 12, out, seed=0,
                             transport=transport, poll_interval=0.002, settle=0.0, timeout=20, progress=False, **kw)
    finally:
        stop.set()
        th.join(10)
    return run, log


def _csv(m, channels):
    ids = [i["id"] for i in m["images"]]
    return encode_response("csv", m["block"], ids, np.tile(np.arange(1.0, channels + 1), (len(ids), 1)))


def test_an_upload_with_another_channel_count_is_refused_and_its_correction_accepted(tmp_path):
    # blocks 0 and 1 have 1 channel; block 2 first comes with 2 (was: 201, then the experiment died, then 409)
    run, log = _live_over_http(tmp_path / "r", lambda m, attempt: _csv(m, 2 if m["block"] == 2 and attempt == 0
                                                                         else 1))
    assert run.meta["status"] == "complete" and len(generation_files(tmp_path / "r")) == 3
    refused = [entry for entry in log if entry[2] != 201]
    assert [(b, a, c) for b, a, c, _ in refused] == [(2, 0, 400)], log
    assert "has 2 channel(s) per row; this experiment records 1: wrong channel count" in refused[0][3]
    assert "correct it and post it again" in refused[0][3]
    assert sorted(p.name for p in (tmp_path / "r" / RESPONSES).iterdir()) == [
        "block000000.csv", "block000001.csv", "block000002.csv"]
    assert np.all(run.scores == 1.0)  # the corrected block's value, nothing of the refused one


def test_an_upload_the_channel_selection_cannot_use_is_refused(tmp_path):
    # channel 2 is pooled; the rig's first answer has only one channel
    run, log = _live_over_http(tmp_path / "r", lambda m, attempt: _csv(m, 1 if m["block"] == 0 and attempt == 0
                                                                         else 3), channels=2)
    assert run.meta["status"] == "complete"
    assert [(b, a, c) for b, a, c, _ in log] == [(0, 0, 400), (0, 1, 201), (1, 0, 201), (2, 0, 201)], log
    assert "channel selection 2 is out of range" in log[0][3]
    assert np.all(run.scores == 3.0)


def test_hundred_concurrent_gets_all_answered(tmp_path):
    """100 clients at once, 10 times: with the old listen backlog of 5, 388 of these 1,000 GETs timed out."""
    import socket

    import torch

    from landscape.live.folder import write_block
    from landscape.live.server import HTTPTransport

    run = tmp_path / "run"
    (run / RESPONSES).mkdir(parents=True)
    (run / "meta.json").write_text('{"status": "running"}')
    write_block(run, 0, 0, ["g000000_i000"], [False], torch.rand(1, 3, 8, 8), np.zeros((1, 8), np.float32))
    t = HTTPTransport(linger=0)
    t.attach(run)
    barrier = threading.Barrier(100)
    failures: list[str] = []

    def client():
        for _ in range(10):
            barrier.wait()
            try:
                with socket.create_connection(("127.0.0.1", t.port), timeout=5) as s:
                    s.sendall(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    data = b""
                    while chunk := s.recv(65536):
                        data += chunk
                if not data.startswith(b"HTTP/1.1 200"):
                    failures.append(data[:40].decode(errors="replace"))
            except OSError as e:
                failures.append(repr(e))

    try:
        threads = [threading.Thread(target=client) for _ in range(100)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
    finally:
        t.detach()
    assert not failures, f"{len(failures)} of 1000 GETs failed: {failures[:3]}"
