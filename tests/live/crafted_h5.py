"""Hostile HDF5 response files, built with h5py: the attacks of issue 16 and their relatives.

Each builder returns the bytes of a response to a block showing ``ids``; the file is what a
rig (or anyone who can post to the server) could send. Several are small on disk and huge,
or outside the file, once read.
"""

from __future__ import annotations

import io
import zlib

import h5py
import numpy as np


def _ids(f: h5py.File, ids: list[str]) -> None:
    f.create_dataset("image_id", data=np.asarray(ids, dtype=object), dtype=h5py.string_dtype())


def _file(build) -> bytes:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        build(f)
    return buf.getvalue()


def vds_external(ids: list[str]) -> bytes:
    """'response' is a virtual dataset whose source is dataset 'response' of file 'ext.h5'.

    Read from memory, the source file name resolves to the file being read, whose 'response'
    is this virtual dataset again: HDF5 recursed until the process died (exit 139, 5.8 KB).
    """
    def build(f):
        _ids(f, ids)
        layout = h5py.VirtualLayout(shape=(len(ids),), dtype="f8")
        layout[:] = h5py.VirtualSource("ext.h5", "response", shape=(len(ids),))
        f.create_virtual_dataset("response", layout, fillvalue=0)
    return _file(build)


def vds_missing(ids: list[str]) -> bytes:
    """A virtual dataset over a file that does not exist: was read as all-zero responses."""
    def build(f):
        _ids(f, ids)
        layout = h5py.VirtualLayout(shape=(len(ids),), dtype="f8")
        layout[:] = h5py.VirtualSource("/nonexistent/rig/data.h5", "spikes", shape=(len(ids),))
        f.create_virtual_dataset("response", layout, fillvalue=0)
    return _file(build)


def million_channels(ids: list[str]) -> bytes:
    """gzip chunks of zeros claiming 1,000,000 channels per row (~0.1 MB; 8 MB per row once read)."""
    channels = 1_000_000
    zero_chunk = zlib.compress(bytes(8 * channels), 9)

    def build(f):
        _ids(f, ids)
        ds = f.create_dataset("response", shape=(len(ids), channels), dtype="f8", chunks=(1, channels),
                              compression="gzip")
        for r in range(len(ids)):
            ds.id.write_direct_chunk((r, 0), zero_chunk, 0)
    return _file(build)


def inflating_chunk(ids: list[str], megabytes: int = 400) -> bytes:
    """One gzip chunk declared as ``len(ids) * 8`` bytes whose stream inflates to ``megabytes`` MB.

    HDF5's gzip filter grows its buffer as long as the stream goes on: 0.4 MB on disk took
    the reader to 457 MB resident and was then accepted as zeros.
    """
    deflate = zlib.compressobj(9)
    stream = b"".join(deflate.compress(bytes(1 << 20)) for _ in range(megabytes)) + deflate.flush()

    def build(f):
        _ids(f, ids)
        ds = f.create_dataset("response", shape=(len(ids), 1), dtype="f8", chunks=(len(ids), 1),
                              compression="gzip")
        ds.id.write_direct_chunk((0, 0), stream, 0)
    return _file(build)


def unwritten_giant(ids: list[str], channels: int = 4096) -> bytes:
    """A chunked (n, 4096) dataset with no chunk written: a few kB that read as n x 32 kB of fill value."""
    def build(f):
        _ids(f, ids)
        f.create_dataset("response", shape=(len(ids), channels), dtype="f8", chunks=(1, channels))
    return _file(build)


def external_link(ids: list[str]) -> bytes:
    """'response' is an external link into another file on the experiment's machine."""
    def build(f):
        _ids(f, ids)
        f["response"] = h5py.ExternalLink("/etc/passwd", "/data")
    return _file(build)


def soft_link(ids: list[str]) -> bytes:
    """'response' is a soft link to another dataset of the file."""
    def build(f):
        _ids(f, ids)
        f.create_dataset("other", data=np.ones(len(ids)))
        f["response"] = h5py.SoftLink("/other")
    return _file(build)


def external_storage(ids: list[str]) -> bytes:
    """'response' keeps its raw values in an external file: /etc/hostname would be read as numbers."""
    def build(f):
        _ids(f, ids)
        f.create_dataset("response", shape=(len(ids),), dtype="f8", external=[("/etc/hostname", 0, 8 * len(ids))])
    return _file(build)


def lzf_filter(ids: list[str]) -> bytes:
    """A filter outside the allow-list (h5py's own LZF)."""
    def build(f):
        _ids(f, ids)
        f.create_dataset("response", data=np.ones(len(ids)), chunks=(len(ids),), compression="lzf")
    return _file(build)


def double_gzip(ids: list[str]) -> bytes:
    """gzip twice in one pipeline: each layer multiplies the inflation (about 1000x per layer)."""
    def build(f):
        _ids(f, ids)
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_chunk((len(ids),))
        dcpl.set_deflate(9)
        dcpl.set_filter(1, h5py.h5z.FLAG_OPTIONAL, (9,))
        dsid = h5py.h5d.create(f.id, b"response", h5py.h5t.IEEE_F64LE, h5py.h5s.create_simple((len(ids),)),
                               dcpl=dcpl)
        h5py.Dataset(dsid)[...] = np.ones(len(ids))
    return _file(build)


def long_vlen_ids(ids: list[str], length: int = 1 << 20) -> bytes:
    """Variable-length image ids of a megabyte each."""
    def build(f):
        f.create_dataset("image_id", data=np.asarray(["g" * length] * len(ids), dtype=object),
                         dtype=h5py.string_dtype())
        f.create_dataset("response", data=np.ones(len(ids)))
    return _file(build)


#: name -> (builder, images in the block, error class name, words the message must hold)
ATTACKS = {
    "virtual dataset over an external file": (vds_external, 11, "UnsafeResponseError", "virtual dataset"),
    "virtual dataset over a missing file": (vds_missing, 11, "UnsafeResponseError", "virtual dataset"),
    "gzip chunks claiming 1,000,000 channels": (million_channels, 11, "ResponseTooLargeError", "1000000 channels"),
    "gzip chunk inflating to 400 MB": (inflating_chunk, 11, "ResponseTooLargeError", "compression bomb"),
    "unwritten chunks reading as 5000 x 4096 values": (unwritten_giant, 5000, "ResponseTooLargeError",
                                                      "MAX_DECODED_BYTES"),
    "external link": (external_link, 11, "UnsafeResponseError", "external link"),
    "soft link": (soft_link, 11, "UnsafeResponseError", "soft link"),
    "external raw storage": (external_storage, 11, "UnsafeResponseError", "external file"),
    "LZF filter": (lzf_filter, 11, "UnsafeResponseError", "filter id(s) [32000]"),
    "gzip twice": (double_gzip, 11, "UnsafeResponseError", "filter id(s) [1, 1]"),
    "megabyte-long variable-length ids": (long_vlen_ids, 11, "ResponseError", "not a safe file name"),
}


def block_ids(n: int) -> list[str]:
    """Ids of a block of ``n`` images (the last one a reference when n > 1)."""
    return [f"g000000_i{i:03d}" if i < 1000 else f"g000000_i{i}" for i in range(n - 1)] + ["ref_000"]
