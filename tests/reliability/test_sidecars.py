"""Files outside run folders carry a sha256 sidecar: tuning maps, curves, sweep results, saved Hessians."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

from landscape.io import (DamagedFile, append_line, digest_path, load_npz_checked, read_checked, save_npz_with_digest,
                          write_with_digest)


def flip(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x04
    path.write_bytes(bytes(data))


def test_sidecar_written_checked_and_damage_named(tmp_path):
    p = save_npz_with_digest(tmp_path / "a.npz", {"x": np.arange(5.0)})
    assert digest_path(p).read_text().endswith("  a.npz\n")  # sha256sum -c reads it
    assert np.array_equal(load_npz_checked(p)["x"], np.arange(5.0))
    flip(p)
    with pytest.raises(DamagedFile, match=r"a.npz is damaged: digest mismatch"):
        load_npz_checked(p)
    p.unlink()
    with pytest.raises(DamagedFile, match="a.npz is missing"):
        read_checked(p)


def test_a_kill_between_the_writes_of_a_replacement_leaves_a_listed_file(tmp_path, monkeypatch):
    import landscape.io as io

    p = write_with_digest(tmp_path / "r.json", b"old")
    real = io.atomic_write_bytes

    def killed(path, data):  # the sidecar is written, the file itself never replaced
        if path == p:
            raise KeyboardInterrupt
        return real(path, data)

    monkeypatch.setattr(io, "atomic_write_bytes", killed)
    with pytest.raises(KeyboardInterrupt):
        write_with_digest(p, b"new")
    monkeypatch.undo()
    assert read_checked(p) == b"old"  # the sidecar lists both versions until the replacement is done
    write_with_digest(p, b"new")
    assert len(digest_path(p).read_text().splitlines()) == 1


def test_a_failed_append_is_cut_back(tmp_path, monkeypatch):
    p = tmp_path / "log"
    append_line(p, "one")
    real = os.write

    def half(fd, data):
        real(fd, bytes(data[:3]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", half)
    with pytest.raises(OSError):
        append_line(p, "two two two")
    monkeypatch.undo()
    assert p.read_bytes() == b"one\n"


def test_a_damaged_tuning_map_is_refused_by_name(tmp_path):
    from landscape.maps import TuningMap

    m = TuningMap("plane", np.arange(6.0).reshape(2, 3), {"a": np.arange(3.0), "b": np.arange(2.0)},
                  np.eye(2, 4), np.zeros(4))
    npz, js = m.save(tmp_path / "map")
    assert np.array_equal(TuningMap.load(tmp_path / "map").values, m.values)
    flip(npz)
    with pytest.raises(DamagedFile, match="map.npz is damaged"):
        TuningMap.load(tmp_path / "map")


def test_a_damaged_sweep_result_stops_the_sweep_instead_of_being_redone(tmp_path):
    from landscape.sweep.worker import read_result, result_path

    p = result_path(tmp_path, "k")
    write_with_digest(p, b'{"format": "x", "config": {}, "row": {}}\n')
    flip(p)
    with pytest.raises(DamagedFile, match=r"k.json is damaged.*delete"):
        read_result(tmp_path, "k", {})
