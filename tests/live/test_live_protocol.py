"""Response files: exact round trips, and every kind of bad input rejected with a clear message (fuzzed)."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from landscape.live.protocol import (ResponseError, channel_index, check_image_id, encode_response, image_file_name,
                                     make_manifest, parse_channels, parse_manifest, parse_response, read_response_file)

IDS = [f"g000003_i{i:03d}" for i in range(5)] + ["ref_000"]
FORMATS = ("csv", "json", "h5")
# malformed inputs tried, by kind (printed at the end with -s; the figures in the report)
TRIED: Counter = Counter()


def table(rng: np.random.Generator, repeats: int = 2, channels: int = 3):
    ids, pres, vals = [], [], []
    for r in range(repeats):
        for i in IDS:
            ids.append(i)
            pres.append(r)
            vals.append(rng.normal(size=channels) * 10)
    return ids, pres, np.asarray(vals)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("with_presentation", [True, False])
def test_round_trip_is_exact(fmt, with_presentation):
    ids, pres, vals = table(np.random.default_rng(0))
    vals[0, 0] = 0.1 + 0.2  # not representable in short decimal: must survive exactly
    data = encode_response(fmt, 3, ids, vals, pres if with_presentation else None)
    t = parse_response(data, fmt, "x", 3, IDS, repeats=2, n_channels=3)
    assert list(t.image_ids) == ids and t.n_channels == 3
    assert np.array_equal(t.values, vals)
    assert (t.presentation is not None) == with_presentation


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_channel_and_partial_files_are_valid(fmt):
    data = encode_response(fmt, 3, IDS[:2], np.array([1.5, 2.5]))
    t = parse_response(data, fmt, "x", 3, IDS, repeats=1)
    assert t.values.shape == (2, 1) and list(t.image_ids) == IDS[:2]


def test_csv_and_json_written_by_hand():
    csv_text = b"image_id,presentation,spikes\ng000003_i000,0,12\ng000003_i000,1,14.5\nref_000,0,3\n"
    t = parse_response(csv_text, "csv", "hand.csv", 3, IDS, repeats=2)
    assert t.channel_names == ("spikes",) and t.values[:, 0].tolist() == [12, 14.5, 3]
    doc = {"block": 3, "responses": [{"image_id": "g000003_i001", "response": 7}]}
    t = parse_response(json.dumps(doc).encode(), "json", "hand.json", 3, IDS)
    assert t.values.tolist() == [[7.0]]


def test_read_response_file_names_the_file(tmp_path):
    p = tmp_path / "block000003.csv"
    p.write_bytes(b"image_id,ch0\ng000003_i000,nan\n")
    with pytest.raises(ResponseError) as e:
        read_response_file(p, 3, IDS)
    assert str(p) in str(e.value) and "finite" in str(e.value)
    with pytest.raises(ValueError, match="unknown response file type"):
        read_response_file(tmp_path / "block000003.txt", 3, IDS)


# --------------------------------------------------------------------------------------
# bad input, one kind at a time
# --------------------------------------------------------------------------------------
TRAVERSAL = ["../meta.json", "..", "a/b", "/etc/passwd", "a\\b", "x\x00y", "", " g000003_i000", "ok..no",
             "C:\\x", "%2e%2e", ".hidden", "-flag", "a" * 65, "é", "g000003_i000\n"]


@pytest.mark.parametrize("bad_id", TRAVERSAL)
def test_unsafe_ids_are_rejected(bad_id):
    with pytest.raises(ValueError, match="not a safe file name|not a string"):
        check_image_id(bad_id)
    for fmt in ("json", "h5"):  # csv cannot carry some of these (NUL, newline) as one field: fuzzed below
        try:
            data = encode_response(fmt, 3, [bad_id], np.array([1.0]))
        except ValueError:  # HDF5 strings cannot hold NUL at all
            continue
        with pytest.raises(ResponseError, match="not a safe file name"):
            parse_response(data, fmt, "x", 3, IDS + [bad_id])


@pytest.mark.slow
@given(st.text(max_size=80))
@settings(max_examples=200, deadline=None, database=None)
def test_accepted_ids_never_leave_the_folder(name):
    TRIED["id strings"] += 1
    try:
        check_image_id(name)
    except ValueError as e:
        assert "not a safe file name" in str(e)
        return
    root = Path("/srv/run/stimuli")
    f = image_file_name(0, name)
    assert os.path.basename(f) == f and os.path.normpath(root / f) == str(root / f)
    assert "/" not in name and "\\" not in name and ".." not in name and name[0] not in ".-"


def _mutate(kind: str, fmt: str, rng: np.random.Generator, data_choice: int):
    """A response to block 3 (repeats 2, 3 channels) with one planted fault, and the words its error must say."""
    ids, pres, vals = table(rng)
    k = data_choice % len(ids)
    if kind == "nan":
        vals[k, data_choice % 3] = [np.nan, np.inf, -np.inf][data_choice % 3]
        return encode_response(fmt, 3, ids, vals, pres), "finite"
    if kind == "unknown id":
        ids[k] = "g999999_i999"
        return encode_response(fmt, 3, ids, vals, pres), "unknown image id"
    if kind == "duplicated id":
        ids.insert(k, ids[k]); pres.insert(k, pres[k]); vals = np.insert(vals, k, vals[k], axis=0)  # noqa: E702
        with_pres = data_choice % 2 == 0
        return encode_response(fmt, 3, ids, vals, pres if with_pres else None), "duplicated"
    if kind == "wrong channel count":
        if fmt == "json":
            doc = json.loads(encode_response(fmt, 3, ids, vals, pres))
            doc["responses"][k]["response"] = doc["responses"][k]["response"][:2]
            return json.dumps(doc).encode(), "channel"
        if fmt == "csv":
            lines = encode_response(fmt, 3, ids, vals, pres).decode().splitlines()
            lines[1 + k] += ",1.0"
            return ("\n".join(lines) + "\n").encode(), "fields"
        return encode_response(fmt, 3, ids, vals[:, :2], pres), "channel"  # checked against n_channels=3
    if kind == "path traversal id":
        ids[k] = TRAVERSAL[data_choice % 5]
        return encode_response(fmt, 3, ids, vals, pres), "not a safe file name"
    if kind == "wrong block":
        if fmt == "csv":
            return encode_response(fmt, 3, ids, vals, [p + 2 for p in pres]), "presentation"
        return encode_response(fmt, 4, ids, vals, pres), "block 4"
    if kind == "not a number":
        if fmt == "csv":
            lines = encode_response(fmt, 3, ids, vals, pres).decode().splitlines()
            cells = lines[1 + k].split(",")
            cells[-1] = ["abc", "", "1.2.3", "0x1p"][data_choice % 4]
            lines[1 + k] = ",".join(cells)
            return ("\n".join(lines) + "\n").encode(), "not a number"
        if fmt == "json":
            doc = json.loads(encode_response(fmt, 3, ids, vals, pres))
            doc["responses"][k]["response"][0] = ["abc", None, True, {"a": 1}][data_choice % 4]
            return json.dumps(doc).encode(), "not a number"
        import io

        import h5py
        buf = io.BytesIO()
        with h5py.File(buf, "w") as f:
            f.create_dataset("image_id", data=np.asarray(ids, dtype=object), dtype=h5py.string_dtype())
            f.create_dataset("response", data=np.asarray([str(v) for v in vals[:, 0]], dtype=object),
                             dtype=h5py.string_dtype())
        return buf.getvalue(), "not numbers"
    raise AssertionError(kind)


KINDS = ["nan", "unknown id", "duplicated id", "wrong channel count", "path traversal id", "wrong block",
         "not a number"]


@given(kind=st.sampled_from(KINDS), fmt=st.sampled_from(FORMATS), seed=st.integers(0, 2**16),
       choice=st.integers(0, 1000))
@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
def test_planted_faults_are_rejected_with_their_reason(kind, fmt, seed, choice):
    data, words = _mutate(kind, fmt, np.random.default_rng(seed), choice)
    TRIED[f"planted: {kind}"] += 1
    with pytest.raises(ResponseError) as e:
        parse_response(data, fmt, "responses/block000003." + fmt, 3, IDS, repeats=2, n_channels=3)
    assert words in str(e.value) and "responses/block000003." + fmt in str(e.value)


@given(fmt=st.sampled_from(FORMATS), data=st.binary(max_size=600))
@settings(max_examples=200, deadline=None, database=None)
def test_random_bytes_are_rejected_cleanly(fmt, data):
    TRIED["random bytes"] += 1
    try:
        t = parse_response(data, fmt, "junk", 3, IDS, repeats=2)
    except ResponseError as e:
        assert str(e).startswith("response file junk: ")
        return
    assert set(t.image_ids) <= set(IDS) and np.isfinite(t.values).all()  # by chance valid: still checked


@given(fmt=st.sampled_from(FORMATS), seed=st.integers(0, 2**16), cut=st.floats(0, 1, exclude_max=True),
       flip=st.integers(0, 10**6))
@settings(max_examples=150, deadline=None, database=None)
def test_truncated_or_corrupted_files_never_pass_as_other_data(fmt, seed, cut, flip):
    ids, pres, vals = table(np.random.default_rng(seed))
    good = encode_response(fmt, 3, ids, vals, pres)
    TRIED["truncated or bit-flipped"] += 2
    cut_data = good[:int(cut * len(good))]
    at = flip % len(good)
    flipped = good[:at] + bytes([good[at] ^ (1 + flip % 255)]) + good[at + 1:]
    try:
        t = parse_response(cut_data, fmt, "partial", 3, IDS, repeats=2, n_channels=3)
    except ResponseError:
        pass
    else:  # a CSV cut after a row reads as a partial response (a JSON cut after its last brace, as all of
        # it): the rows it keeps are the first rows sent, intact
        assert list(t.image_ids) == ids[:len(t.image_ids)] and np.array_equal(t.values, vals[:len(t.image_ids)])
        assert fmt == "csv" or len(t.image_ids) == len(ids)
    try:
        t = parse_response(flipped, fmt, "flipped", 3, IDS, repeats=2, n_channels=3)
    except ResponseError:
        return
    # a flipped digit can make another valid number; the file's structure still holds
    assert set(t.image_ids) <= set(IDS) and np.isfinite(t.values).all() and t.values.shape[1] == 3


@pytest.mark.parametrize("data,fmt,words", [
    (b"", "csv", "empty"),
    (b"id,ch0\nx,1\n", "csv", "'image_id'"),
    (b"image_id\ng000003_i000\n", "csv", "no channel"),
    (b"image_id,a,a\n", "csv", "repeated column"),
    (b"\xff\xfe", "csv", "UTF-8"),
    (b"[]", "json", "JSON object"),
    (b'{"responses": [], "extra": 1}', "json", "unknown key"),
    (b'{"responses": [{"image_id": "ref_000", "response": 1, "response": 2}]}', "json", "duplicated key"),
    (b'{"responses": [{"image_id": "ref_000"}]}', "json", "required"),
    (b'{"responses": [{"image_id": "ref_000", "response": []}]}', "json", "empty list"),
    (b'{"responses": [{"image_id": "ref_000", "response": NaN}]}', "json", "finite"),
    (b'{"responses": [{"image_id": "ref_000", "response": 1e999}]}', "json", "finite"),
    (b'{"responses": [{"image_id": 7, "response": 1}]}', "json", "not a string"),
    (b'{"responses": [{"image_id": "ref_000", "response": 1, "presentation": -1}]}', "json", "non-negative"),
    (b"[" * 100000, "json", "not valid JSON"),
    (b"\x89HDF\r\n\x1a\n" + b"\0" * 100, "h5", "HDF5"),
])
def test_specific_malformations(data, fmt, words):
    TRIED["hand-made malformations"] += 1
    with pytest.raises(ResponseError, match=words):
        parse_response(data, fmt, "f", 3, IDS, repeats=2)


def test_more_presentations_than_asked_is_rejected():
    data = encode_response("csv", 3, ["ref_000"] * 3, np.ones(3))
    with pytest.raises(ResponseError, match="appears 3 times but block 3 asked for 2"):
        parse_response(data, "csv", "f", 3, IDS, repeats=2)


def test_channel_selection():
    assert parse_channels("all") == "all" and parse_channels("3") == 3 and parse_channels("0,2") == (0, 2)
    assert channel_index("all", 3).tolist() == [0, 1, 2] and channel_index([2, 0], 3).tolist() == [2, 0]
    for bad in ("x", -1, [], [1, 1], True, 1.5):
        with pytest.raises(ValueError, match="channel"):
            parse_channels(bad)
    with pytest.raises(ValueError, match="out of range.*records 2 channel"):
        channel_index(5, 2)


def test_manifests():
    m = make_manifest(3, 2, ["g000002_i000", "ref_000"], [False, True], repeats=2)
    assert m["images"][1] == {"id": "ref_000", "file": "block000003_ref_000.png", "reference": True}
    assert parse_manifest(json.dumps(m).encode(), "m") == m
    m["images"][0]["file"] = "../../meta.json"
    with pytest.raises(ValueError, match="not valid"):
        parse_manifest(json.dumps(m).encode(), "m")
    with pytest.raises(ValueError, match="duplicated"):
        make_manifest(3, 2, ["a", "a"], [False, False])
    with pytest.raises(ValueError, match="safe file name"):
        make_manifest(3, 2, ["../a"], [False])


def test_report_tried_counts():
    """Runs last in this file: prints how many malformed inputs the fuzzers tried (see the report)."""
    total = sum(v for k, v in TRIED.items() if k != "id strings")
    print(f"\nmalformed response inputs tried: {total} ({dict(TRIED)}); all rejected or checked")
    assert total > 0 or not TRIED
