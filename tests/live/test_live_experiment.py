"""The live loop against an in-process rig: what is recorded, partial responses, bad files, full disks, resume."""

from __future__ import annotations

import errno
import json
import threading
import time

import numpy as np
import pytest
import torch

from landscape import optim
from landscape.live.experiment import LiveTimeout, run_experiment
from landscape.live.folder import RESPONSES, StorageError, read_manifest, response_candidates
from landscape.live.protocol import ResponseError, encode_response, read_response_file
from landscape.live.simrig import SimulatedRig
from landscape.optim.ga import GA
from landscape.runs import Run, RunError
from live_support import ChannelMean, ThreadRig, assert_same_run, count_response_rows, tiny_generator

BUDGET, POP = 24, 6


class SpyGA(GA):
    """The GA, remembering every score it was told."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.told = []

    def tell(self, codes, scores):
        self.told.append(np.asarray(scores, dtype=float).copy())
        super().tell(codes, scores)


def make_opt(nan_policy="worst", seed=1, cls=GA):
    return cls(8, population=POP, seed=seed, nan_policy=nan_policy)


def references():
    r = torch.zeros(2, 3, 8, 8)
    r[0, 0] = 1.0  # a red square: channel 0 likes it
    r[1, 1] = 0.5
    return r


def sim(drop=0.2, seed=3, fmt="csv"):
    return SimulatedRig([ChannelMean(0), ChannelMean(1)], scale=50, seed=seed, drop=drop, fmt=fmt)


def live(out, optimizer=None, **kw):
    args = dict(seed=0, references=references(), repeats=2, poll_interval=0.002, settle=0.0, timeout=20,
                progress=False)
    args.update(kw)
    return run_experiment(tiny_generator(), optimizer or make_opt(), BUDGET, out, **args)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("live") / "full"
    rig = sim()
    with ThreadRig(out, rig.respond) as t:
        run = live(out)
    assert len(t.answered) == len(set(t.answered))
    return out, run


def test_records_every_presentation_and_pools_them(uninterrupted):
    out, run = uninterrupted
    assert run.meta["status"] == "complete" and run.meta["unit"]["type"] == "LiveNeuron"
    assert run.codes.shape == (BUDGET // POP, POP, 8) and run.clean_scores is None
    requeued = 0
    for g in range(run.n_generations):
        with np.load(out / "generations" / f"gen_{g:06d}.npz") as z:
            rows: dict[str, list] = {}
            for b in z["blocks"]:
                m = read_manifest(out, int(b))
                ids = [i["id"] for i in m["images"]]
                refs_at = [k for k, i in enumerate(m["images"]) if i["reference"]]
                assert [ids[k] for k in refs_at] == ["ref_000", "ref_001"] and refs_at[1] - refs_at[0] > 1
                if len(ids) == POP + 2:
                    assert refs_at == [2, 6]  # interleaved: never first or last in a full block
                (f,) = response_candidates(out, int(b))
                t = read_response_file(f, int(b), ids, 2)
                for i, v in zip(t.image_ids, t.values):
                    rows.setdefault(i, []).append(v)
                answered = set(t.image_ids)
                for later in z["blocks"][z["blocks"] > b]:  # an answered image is never shown again
                    assert not answered & {i["id"] for i in read_manifest(out, int(later))["images"]} - {"ref_000", "ref_001"}
            requeued += len(z["blocks"]) - 1
            for k, i in enumerate(z["image_ids"]):
                got = np.array(rows.get(i, []))
                assert z["n_presentations"][k] == len(got) and z["missing"][k] == (len(got) == 0)
                if len(got):
                    pooled = got.mean(1)  # channels "all", averaged
                    assert z["scores"][k] == pytest.approx(pooled.mean(), abs=1e-12)
                    if len(got) > 1:
                        assert z["response_var"][k] == pytest.approx(pooled.var(ddof=1), abs=1e-12)
                    assert np.array_equal(z["responses"][k, :len(got)], got)
                else:
                    assert np.isnan(z["scores"][k])
            ref = np.array(rows["ref_000"])
            assert z["reference_scores"][0] == pytest.approx(ref.mean(1).mean()) and z["reference_n"][0] == len(ref)
    assert requeued > 0  # the rig dropped images and they were shown again
    assert count_response_rows(out) == sum(
        int(np.load(p)["n_presentations"].sum() + np.load(p)["reference_n"].sum())
        for p in sorted((out / "generations").glob("*.npz")))
    # a real search happened: the red-and-green unit is driven up
    assert run.best_per_generation()[-1] > run.mean_per_generation()[0]


def test_missing_images_are_marked_and_told_as_nan(tmp_path):
    opt = make_opt(cls=SpyGA)
    with ThreadRig(tmp_path / "r", sim(drop=0.3).respond):
        run = live(tmp_path / "r", opt, missing="mark")
    n_missing = 0
    for g, told in enumerate(opt.told):
        with np.load(tmp_path / "r" / "generations" / f"gen_{g:06d}.npz") as z:
            assert len(z["blocks"]) == 1
            assert np.array_equal(np.isnan(told), z["missing"]) and np.array_equal(told, z["scores"], equal_nan=True)
            n_missing += int(z["missing"].sum())
    assert n_missing > 0 and run.n_generations == len(opt.told)


def test_requeue_gives_up_after_max_requeue(tmp_path):
    def respond(m, images):  # never answers image 2 of any generation
        ids = [i["id"] for i in m["images"] if not i["id"].endswith("_i002")]
        return encode_response("json", m["block"], ids, np.ones((len(ids), 1)))

    with ThreadRig(tmp_path / "r", respond, fmt="json"):
        run = live(tmp_path / "r", repeats=1, max_requeue=2)
    with np.load(tmp_path / "r" / "generations" / "gen_000000.npz") as z:
        assert z["blocks"].tolist() == [0, 1, 2] and z["missing"].tolist() == [False, False, True, False, False, False]
        assert z["answered_block"].tolist() == [0, 0, -1, 0, 0, 0]
    assert np.isnan(run.scores[:, 2]).all() and np.isfinite(np.delete(run.scores, 2, axis=1)).all()


def test_corrupt_response_file_stops_cleanly_and_is_read_again_once_fixed(tmp_path, uninterrupted):
    out = tmp_path / "r"
    rig = sim()

    def respond(m, images):
        data = rig.respond(m, images)
        if m["block"] == 3:
            return data.replace(b"\n", b"\nnot,a,row\n", 1)[:-20]  # a partial, broken file
        return data

    with ThreadRig(out, respond), pytest.raises(ResponseError) as e:
        live(out)
    bad = out / RESPONSES / "block000003.csv"
    assert str(bad) in str(e.value) and "read again" in str(e.value)
    before = Run.load(out)
    assert before.meta["status"] == "failed" and 1 <= before.n_generations <= 3
    # the data so far is intact: it equals the uninterrupted run's
    full = uninterrupted[1]
    assert np.array_equal(before.scores, full.scores[:before.n_generations], equal_nan=True)
    # the operator fixes the file; the block is read again, not shown again
    m = read_manifest(out, 3)
    from landscape.live.simrig import decode_png
    images = torch.stack([decode_png((out / "stimuli" / i["file"]).read_bytes()) for i in m["images"]])
    bad.write_bytes(rig.respond(m, images))
    with ThreadRig(out, rig.respond) as t:
        live(out, resume=True)
    assert 3 not in t.answered
    assert_same_run(out, uninterrupted[0])


def test_in_place_writer_is_not_read_half_written(tmp_path):
    rig = sim(drop=0.0)

    def slow_writer():
        while not (tmp_path / "r" / "stimuli" / "block000000.json").exists():
            time.sleep(0.005)
        m = read_manifest(tmp_path / "r", 0)
        from landscape.live.simrig import decode_png
        imgs = torch.stack([decode_png((tmp_path / "r" / "stimuli" / i["file"]).read_bytes()) for i in m["images"]])
        data = rig.respond(m, imgs)
        f = tmp_path / "r" / RESPONSES / "block000000.csv"
        with open(f, "wb") as h:  # in place, in two bursts, like a slow acquisition program
            h.write(data[: len(data) // 2])
            h.flush()
            time.sleep(0.25)
            h.write(data[len(data) // 2:])

    th = threading.Thread(target=slow_writer, daemon=True)
    th.start()
    opt = make_opt()
    budget_one = POP
    run = run_experiment(tiny_generator(), opt, budget_one, tmp_path / "r", references=references(), repeats=2,
                         poll_interval=0.01, settle=0.6, timeout=20, progress=False)
    th.join()
    with np.load(tmp_path / "r" / "generations" / "gen_000000.npz") as z:
        assert z["n_presentations"].tolist() == [2] * POP and z["blocks"].tolist() == [0]
    assert run.n_generations == 1


@pytest.mark.parametrize("where", ["generation", "stimulus"])
def test_disk_full_keeps_data_and_resumes_exactly(tmp_path, monkeypatch, uninterrupted, where):
    import landscape.record as experiment
    import landscape.live.folder as folder

    calls = {"n": 0}
    real = experiment.atomic_save_npz if where == "generation" else folder.save_png

    def full_disk(path, *a, **kw):
        calls["n"] += where == "stimulus" or "generations" in str(path)
        if calls["n"] == (3 if where == "generation" else 20):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, *a, **kw)

    monkeypatch.setattr(experiment if where == "generation" else folder,
                        "atomic_save_npz" if where == "generation" else "save_png", full_disk)
    out = tmp_path / "r"
    rig = sim()
    with ThreadRig(out, rig.respond) as t1, pytest.raises(StorageError) as e:
        live(out)
    assert "No space left on device" in str(e.value) and "resume" in str(e.value)
    kept = Run.load(out)
    assert kept.meta["status"] == "failed" and kept.n_generations == (2 if where == "generation" else kept.n_generations)
    assert np.array_equal(kept.scores, uninterrupted[1].scores[:kept.n_generations], equal_nan=True)
    monkeypatch.undo()
    with ThreadRig(out, rig.respond) as t2:
        live(out, resume=True)
    assert not set(t1.answered) & set(t2.answered)  # blocks answered before the failure are re-read, not re-shown
    assert_same_run(out, uninterrupted[0])


def test_timeout_is_a_clear_resumable_error(tmp_path):
    with pytest.raises(LiveTimeout, match="no response to block 0 within 0.2 s.*--resume"):
        live(tmp_path / "r", timeout=0.2)
    assert Run.load(tmp_path / "r").meta["status"] == "failed"
    with ThreadRig(tmp_path / "r", sim().respond):
        run = live(tmp_path / "r", resume=True)
    assert run.n_generations == BUDGET // POP


def test_channel_count_must_not_change(tmp_path):
    def respond(m, images):
        c = 2 if m["block"] == 0 else 3
        ids = [i["id"] for i in m["images"]]
        return encode_response("csv", m["block"], ids, np.ones((len(ids), c)))

    with ThreadRig(tmp_path / "r", respond), pytest.raises(ResponseError, match="wrong channel count"):
        live(tmp_path / "r", repeats=1)
    with ThreadRig(tmp_path / "s", respond), pytest.raises(ResponseError, match="has 2 channel.*records 4"):
        live(tmp_path / "s", repeats=1, n_channels=4)


def test_channel_selection_pools_only_the_chosen_channels(tmp_path):
    def respond(m, images):
        ids = [i["id"] for i in m["images"]]
        return encode_response("h5", m["block"], ids, np.tile([1.0, 2.0, 6.0], (len(ids), 1)))

    with ThreadRig(tmp_path / "r", respond, fmt="h5"):
        run = live(tmp_path / "r", repeats=1, channels=[0, 2])
    assert np.all(run.scores == 3.5)
    with ThreadRig(tmp_path / "s", respond, fmt="h5"), pytest.raises(ResponseError, match="out of range"):
        live(tmp_path / "s", repeats=1, channels=7)


def test_bad_configurations_are_refused(tmp_path):
    with pytest.raises(ValueError, match="nan_policy='worst'"):
        live(tmp_path / "a", make_opt(nan_policy="raise"))
    with pytest.raises(ValueError, match="missing must be one of"):
        live(tmp_path / "a", missing="ignore")
    with pytest.raises(ValueError, match="out of range"):
        live(tmp_path / "a", channels=3, n_channels=2)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.txt").write_text("x")
    with pytest.raises(RunError, match="not empty"):
        live(tmp_path / "b")
    with pytest.raises(LiveTimeout):
        live(tmp_path / "c", timeout=0.05)
    with pytest.raises(RunError, match="optimizer"):
        live(tmp_path / "c", make_opt(seed=2), resume=True)
    with pytest.raises(RunError, match="reference images differ"):
        live(tmp_path / "c", references=references() * 0.5, resume=True)
    with pytest.raises(RunError, match="resume=True"):
        live(tmp_path / "c")


def test_a_start_killed_before_meta_json_starts_again(tmp_path, uninterrupted):
    out = tmp_path / "r"
    (out / "stimuli").mkdir(parents=True)
    (out / "responses").mkdir()
    (out / "references.npz").write_bytes(b"half")
    (out / ".rig.lock").touch()
    with ThreadRig(out, sim().respond):
        live(out, resume=True)
    assert_same_run(out, uninterrupted[0])


def test_http_transport_runs_the_same_experiment(tmp_path, uninterrupted):
    from landscape.live.server import HTTPTransport
    from landscape.live.simrig import _Faults, watch_server

    transport = HTTPTransport()
    out = tmp_path / "r"
    out.mkdir()
    result = {}
    # the rig talks HTTP only; it starts before the server exists and retries
    th = threading.Thread(target=lambda: result.setdefault("code", watch_server(
        sim(), _url_when_ready(transport), _Faults((0, 0), 0, None), poll=0.003, idle_exit=20)), daemon=True)
    th.start()
    run = live(out, transport=transport)
    th.join(20)
    assert result.get("code") == 0 and run.meta["live"]["transport"]["host"] == "127.0.0.1"
    assert_same_run(out, uninterrupted[0])  # same data whichever way the blocks travelled


def _url_when_ready(transport, wait=20.0):
    t0 = time.monotonic()
    while transport._server is None and time.monotonic() - t0 < wait:
        time.sleep(0.002)
    return transport.url


def test_meta_is_plain_json(uninterrupted):
    meta = json.loads((uninterrupted[0] / "meta.json").read_text())
    assert meta["format"] == "landscape-run/1" and meta["live"]["protocol"] == "landscape-live-block/1"
    assert meta["optimizer"] == optim.make("ga", 8, population=POP, seed=1, nan_policy="worst").config()
