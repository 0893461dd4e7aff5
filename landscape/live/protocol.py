"""The block protocol between an experiment and a recording rig: names, manifests, response files.

Everything here is plain data checking (numpy, and h5py for HDF5 files); nothing touches a
model. Both transports (:mod:`.folder` and :mod:`.server`) and the simulated rig use it, so a
response is judged by the same rules whichever way it arrives.

Blocks
------
The experiment shows the rig one *block* of images at a time: a generation's codes, plus the
reference images interleaved among them. Block ``b`` is

``stimuli/blockBBBBBB_<image id>.png``
    one PNG per image (written first);
``stimuli/blockBBBBBB.json``
    the manifest, written last and atomically, so a rig that sees it can read every image::

        {"format": "landscape-live-block/1", "block": 3, "generation": 2, "repeats": 1,
         "images": [{"id": "g000002_i000", "file": "block000003_g000002_i000.png",
                     "reference": false}, ...]}

    ``repeats`` is how many presentations of each image the experiment asks for; a response
    file with more presentations of one image is rejected as duplicated.

Image ids are safe file names: 1 to 64 characters from ``A-Z a-z 0-9 _ . -``, starting with a
letter or digit, never containing ``..``. Anything else (path separators, ``..``, spaces,
NUL, non-ASCII) is rejected.

Response files
--------------
The rig answers block ``b`` with exactly one of ``responses/blockBBBBBB.csv``, ``.json`` or
``.h5`` (``.hdf5``). A rig should write the file under another name (a dot-file, or a
``.part``/``.tmp`` suffix, which are ignored) and rename it when complete. One row per
*presentation*; an image shown twice has two rows; an image with no row is *missing*.

CSV
    A header row, then one row per presentation, each ending with a line break (a file
    that does not end with one was cut off). First column ``image_id``; an optional
    ``presentation`` column (0-based repeat index); every other column is a channel::

        image_id,presentation,ch0,ch1
        g000002_i000,0,12.5,3.0

JSON
    ``{"block": 3, "channels": ["ch0", "ch1"], "responses": [{"image_id": "g000002_i000",
    "presentation": 0, "response": [12.5, 3.0]}, ...]}``; ``block``, ``channels`` and
    ``presentation`` are optional; ``response`` is a number (one channel) or a list.

HDF5
    Datasets ``image_id`` (n,) strings, ``response`` (n,) or (n, C) numbers, optionally
    ``presentation`` (n,) integers; optional attribute ``block``.

Rules (each broken rule raises :class:`ResponseError` naming the file and the problem):
every id is safe and belongs to the block; every value is finite; every row has the same
number of channels, equal to the experiment's ``n_channels`` when one is set; no image has
more presentations than the block's ``repeats``; no (image, presentation) pair appears twice;
the file's ``block``, if given, is this block.

Untrusted files
---------------
A response file comes from outside the experiment (a rig, an upload), so it is read as
hostile. Before any value is read:

* sizes are capped (:class:`ResponseTooLargeError`): the file at :data:`MAX_RESPONSE_BYTES`;
  rows at the block's images x ``repeats`` (more cannot be valid); channels at the
  experiment's ``n_channels``, or :data:`MAX_RESPONSE_CHANNELS` until that is known; the
  decoded values at :data:`MAX_DECODED_BYTES`. For HDF5 these are judged from the declared
  shapes and types, and every compressed chunk is test-inflated with a bound first, so a
  chunk that inflates beyond its declared size (a "zip bomb") is refused, not read.
* HDF5 features that reach outside the file or run unknown code are refused
  (:class:`UnsafeResponseError`): virtual datasets (their source "files" can re-enter the
  file being read: the HDF5 library crashed the process on one), external raw storage,
  soft and external links, and filters other than :data:`H5_FILTERS` (gzip, shuffle,
  fletcher32), each at most once.

The HDF5 library itself still parses the file's metadata in this process; these checks keep
its data paths (where the crashes and memory blow-ups were found) away from crafted input.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import zlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection, Sequence

import numpy as np

from ..record import RunError

BLOCK_FORMAT = "landscape-live-block/1"
#: response file suffix -> format name
RESPONSE_SUFFIXES = {".csv": "csv", ".json": "json", ".h5": "h5", ".hdf5": "h5"}
#: largest response file read (a block of a few hundred images is a few hundred kB)
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
#: most channels per row while the experiment's channel count is not yet fixed (a rig with
#: several 384-channel probes stays below it; pass ``n_channels`` to allow more)
MAX_RESPONSE_CHANNELS = 4096
#: most bytes of float64 values one response file may decode to (16.7 M values)
MAX_DECODED_BYTES = 128 * 1024 * 1024
#: most stored chunks per HDF5 dataset (each is test-inflated before the library reads it)
MAX_H5_CHUNKS = 100_000
#: HDF5 filters a response file may use, by filter id; anything else (szip, lzf, plugins) is refused
H5_FILTERS = {1: "gzip (deflate)", 2: "shuffle", 3: "fletcher32"}
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
BLOCK_NAME = re.compile(r"block(\d{6})")


class LiveError(RunError):
    """A live experiment cannot go on; the message says why and what was kept.

    A :class:`~landscape.record.RunError`: the run loop passes it on unchanged (a time-out or a
    bad response file is not a failed unit).
    """


class ResponseError(LiveError, ValueError):
    """A response file (or an uploaded response) breaks the protocol.

    Attributes
    ----------
    source : str
        The file (or upload) that is wrong.
    problem : str
        What is wrong with it.
    """

    def __init__(self, source: str, problem: str) -> None:
        self.source, self.problem = str(source), problem
        super().__init__(f"response file {source}: {problem}")


class ResponseTooLargeError(ResponseError):
    """A response file is (or would decode to) more than the caps allow: bytes, rows, channels."""


class UnsafeResponseError(ResponseError):
    """A response file uses a feature that is never read: HDF5 virtual datasets, external storage,
    soft or external links, filters outside :data:`H5_FILTERS`."""


# --------------------------------------------------------------------------------------
# names
# --------------------------------------------------------------------------------------
def check_image_id(image_id: Any) -> str:
    """Return ``image_id`` if it is a safe image id, else raise ``ValueError`` saying why."""
    if not isinstance(image_id, str):
        raise ValueError(f"image id {image_id!r} is a {type(image_id).__name__}, not a string")
    if not ID_PATTERN.fullmatch(image_id) or ".." in image_id:
        raise ValueError(f"image id {image_id!r} is not a safe file name: ids are 1-64 characters from "
                         "A-Z a-z 0-9 _ . - starting with a letter or digit, without '..' or path separators")
    return image_id


def block_name(block: int) -> str:
    """``blockBBBBBB`` for block number ``block``."""
    if not isinstance(block, (int, np.integer)) or not 0 <= block <= 999_999:
        raise ValueError(f"block number must be an integer in 0..999999, got {block!r}")
    return f"block{int(block):06d}"


def image_file_name(block: int, image_id: str) -> str:
    """File name of one image of a block: ``blockBBBBBB_<id>.png``."""
    return f"{block_name(block)}_{check_image_id(image_id)}.png"


def evolved_id(generation: int, index: int) -> str:
    """Id of the ``index``-th code of ``generation``: ``gGGGGGG_iIII``."""
    return f"g{generation:06d}_i{index:03d}"


def reference_id(index: int) -> str:
    """Id of the ``index``-th reference image: ``ref_RRR``."""
    return f"ref_{index:03d}"


# --------------------------------------------------------------------------------------
# manifests
# --------------------------------------------------------------------------------------
def make_manifest(block: int, generation: int, image_ids: Sequence[str], reference: Sequence[bool],
                  repeats: int = 1) -> dict:
    """The manifest of one block (see the module docstring); ids are checked."""
    if len(image_ids) != len(reference):
        raise ValueError(f"{len(image_ids)} image ids but {len(reference)} reference flags")
    dup = [i for i, c in Counter(image_ids).items() if c > 1]
    if dup:
        raise ValueError(f"block {block}: duplicated image ids {dup[:5]}")
    return {"format": BLOCK_FORMAT, "block": int(block), "generation": int(generation), "repeats": int(repeats),
            "images": [{"id": check_image_id(i), "file": image_file_name(block, i), "reference": bool(r)}
                       for i, r in zip(image_ids, reference)]}


def parse_manifest(data: bytes, source: str) -> dict:
    """Read and check a manifest; raises ``ValueError`` naming ``source``."""
    try:
        m = json.loads(data)
        block = m["block"]
        if m.get("format") != BLOCK_FORMAT:
            raise ValueError(f"format is {m.get('format')!r}, expected {BLOCK_FORMAT!r}")
        ids = [img["id"] for img in m["images"]]
        for img in m["images"]:
            if img["file"] != image_file_name(block, img["id"]):
                raise ValueError(f"image {img['id']!r} names file {img['file']!r}, "
                                 f"expected {image_file_name(block, img['id'])!r}")
        if len(set(ids)) != len(ids) or int(m["repeats"]) < 1:
            raise ValueError("duplicated image ids or repeats < 1")
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"block manifest {source} is not valid: {e}") from e
    return m


# --------------------------------------------------------------------------------------
# response files
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResponseTable:
    """The rows of one response file, one presentation each.

    Attributes
    ----------
    source : str
    image_ids : (n,) tuple of str
    values : (n, C) float64 array
        Responses per presentation and channel.
    presentation : (n,) int array or None
        Repeat index of each row, when the file gives one.
    channel_names : tuple of str or None
    block : int or None
        The block the file says it answers, when it says.
    """

    source: str
    image_ids: tuple[str, ...]
    values: np.ndarray
    presentation: np.ndarray | None = None
    channel_names: tuple[str, ...] | None = None
    block: int | None = None

    @property
    def n_channels(self) -> int | None:
        """Channels per row (None for a file with no rows and no named channels)."""
        if self.values.shape[0]:
            return int(self.values.shape[1])
        return len(self.channel_names) if self.channel_names else None


def response_format(path: str | Path) -> str:
    """``csv``, ``json`` or ``h5`` from a file name; ``ValueError`` for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix not in RESPONSE_SUFFIXES:
        raise ValueError(f"{path}: unknown response file type {suffix!r}; valid: {', '.join(RESPONSE_SUFFIXES)}")
    return RESPONSE_SUFFIXES[suffix]


def read_response_file(path: str | Path, block: int, expected_ids: Collection[str], repeats: int = 1,
                       n_channels: int | None = None) -> ResponseTable:
    """Read and check one response file (see :func:`parse_response`)."""
    path = Path(path)
    return parse_response(read_response_bytes(path), response_format(path), str(path), block, expected_ids,
                          repeats, n_channels)


def read_response_bytes(path: str | Path) -> bytes:
    """A response file's bytes; :class:`ResponseTooLargeError` above :data:`MAX_RESPONSE_BYTES` (not read)."""
    path = Path(path)
    response_format(path)
    try:
        size = path.stat().st_size
        if size > MAX_RESPONSE_BYTES:
            raise ResponseTooLargeError(path, f"is {size} bytes, more than the {MAX_RESPONSE_BYTES}-byte limit "
                                              "(MAX_RESPONSE_BYTES)")
        return path.read_bytes()
    except OSError as e:
        raise ResponseError(path, f"cannot be read ({e.strerror or e})") from e


def parse_response(data: bytes, fmt: str, source: str, block: int, expected_ids: Collection[str],
                   repeats: int = 1, n_channels: int | None = None) -> ResponseTable:
    """Parse and check the response to one block.

    Parameters
    ----------
    data : bytes
        The file's contents.
    fmt : {"csv", "json", "h5"}
    source : str
        Named in error messages (the file path, or the upload).
    block : int
        The block this file must answer.
    expected_ids : collection of str
        The ids the block showed.
    repeats : int
        Most presentations allowed per image.
    n_channels : int or None
        Channels each row must have (None: any, but the same in every row).

    Returns
    -------
    ResponseTable

    Raises
    ------
    ResponseError
        Naming ``source`` and what is wrong.
    """
    if len(data) > MAX_RESPONSE_BYTES:
        raise ResponseTooLargeError(source, f"is {len(data)} bytes, more than the {MAX_RESPONSE_BYTES}-byte limit "
                                            "(MAX_RESPONSE_BYTES)")
    expected = set(expected_ids)
    limits = _Limits(source, block, len(expected), int(repeats), n_channels)
    if fmt == "csv":
        table = _parse_csv(data, source, limits)
    elif fmt == "json":
        table = _parse_json(data, source, limits)
    elif fmt == "h5":
        table = _parse_h5(data, source, limits)
    else:
        raise ValueError(f"unknown response format {fmt!r}; valid: csv, json, h5")
    _check_table(table, block, expected, repeats, n_channels)
    return table


@dataclass(frozen=True)
class _Limits:
    """What one response file may hold, known before reading it: checked as soon as a size is seen."""

    source: str
    block: int
    n_images: int
    repeats: int
    n_channels: int | None

    @property
    def max_rows(self) -> int:
        return self.n_images * self.repeats

    def rows(self, n: int) -> None:
        """Refuse more rows than the block can have: each image at most ``repeats`` times."""
        if n > self.max_rows:
            raise ResponseTooLargeError(
                self.source, f"has at least {n} rows, but block {self.block} showed {self.n_images} image(s) x "
                             f"{self.repeats} presentation(s) = at most {self.max_rows} rows: duplicated rows, or "
                             "the response to another block?")

    def channels(self, c: int) -> None:
        """Refuse a channel count other than the experiment's, or above the cap while it is unknown."""
        if self.n_channels is not None:
            if c != self.n_channels:
                raise ResponseError(self.source, f"has {c} channel(s) per row; this experiment records "
                                                 f"{self.n_channels}: wrong channel count")
        elif c > MAX_RESPONSE_CHANNELS:
            raise ResponseTooLargeError(self.source, f"has {c} channels per row, more than the "
                                                     f"{MAX_RESPONSE_CHANNELS} allowed (MAX_RESPONSE_CHANNELS) "
                                                     "while the experiment's channel count is not set; pass "
                                                     "n_channels to record more")

    def values(self, rows: int, c: int) -> None:
        """Refuse a table that would decode to more than :data:`MAX_DECODED_BYTES`."""
        self.rows(rows)
        self.channels(c)
        size = rows * c * 8
        if size > MAX_DECODED_BYTES:
            raise ResponseTooLargeError(self.source, f"holds {rows} x {c} values ({size} bytes as float64), more "
                                                     f"than the {MAX_DECODED_BYTES}-byte limit (MAX_DECODED_BYTES)")


def _parse_csv(data: bytes, source: str, limits: _Limits) -> ResponseTable:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ResponseError(source, f"is not UTF-8 text ({e})") from e
    if text and not text.endswith(("\n", "\r")):
        raise ResponseError(source, "does not end with a line break: its last row may be cut off (a rig should "
                                    "write the whole file, then rename it into place)")
    # rows are read one at a time, so a file with too many rows or columns stops at the first one over
    rows = ((n, r) for n, r in enumerate(csv.reader(io.StringIO(text, newline="")), start=1)
            if r and any(c.strip() for c in r))
    try:
        first = next(rows, None)
    except csv.Error as e:
        raise ResponseError(source, f"is not valid CSV ({e})") from e
    if first is None:
        raise ResponseError(source, "is empty: expected a header row 'image_id,<channel>,...'")
    header = [c.strip() for c in first[1]]
    if header[0] != "image_id":
        raise ResponseError(source, f"the first header column is {header[0][:40]!r}; expected 'image_id' "
                                    "(header: image_id[,presentation],<channel>,...)")
    if len(set(header)) != len(header) or any(not h for h in header):
        raise ResponseError(source, f"the header has empty or repeated column names: {header[:10]}")
    has_pres = len(header) > 1 and header[1] == "presentation"
    channels = header[2 if has_pres else 1:]
    if not channels:
        raise ResponseError(source, "the header names no channel column after image_id")
    limits.channels(len(channels))
    ids, pres, values = [], [], []
    try:
        body = list(itertools.islice(rows, limits.max_rows + 1))
    except csv.Error as e:
        raise ResponseError(source, f"is not valid CSV ({e})") from e
    limits.values(len(body), len(channels))
    for line, row in body:
        if len(row) != len(header):
            raise ResponseError(source, f"line {line} has {len(row)} fields, the header has {len(header)}")
        ids.append(row[0].strip())
        if has_pres:
            pres.append(_integer(row[1].strip(), source, f"line {line}, presentation"))
        values.append([_number(v, source, f"line {line}, column {h!r}")
                       for v, h in zip(row[2 if has_pres else 1:], channels)])
    arr = np.asarray(values, dtype=np.float64).reshape(len(values), len(channels))
    return ResponseTable(source, tuple(ids), arr, np.asarray(pres, np.int64) if has_pres else None, tuple(channels))


def _number(text: Any, source: str, where: str) -> float:
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ResponseError(source, f"{where}: {text!r} is not a number")
    try:
        return float(text)
    except (ValueError, OverflowError):
        raise ResponseError(source, f"{where}: {str(text)[:40]!r} is not a number") from None


def _integer(value: Any, source: str, where: str) -> int:
    if isinstance(value, str):
        if not re.fullmatch(r"\d{1,9}", value):
            raise ResponseError(source, f"{where}: {value[:40]!r} is not a non-negative integer")
        return int(value)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < 10**9:
        raise ResponseError(source, f"{where}: {value!r} is not a non-negative integer")
    return int(value)


_JSON_TOP = ("format", "block", "channels", "responses")
_JSON_ENTRY = ("image_id", "presentation", "response")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    keys = [k for k, _ in pairs]
    dup = [k for k, c in Counter(keys).items() if c > 1]
    if dup:
        raise ValueError(f"duplicated key(s) {dup[:5]} in one JSON object")
    return dict(pairs)


def _parse_json(data: bytes, source: str, limits: _Limits) -> ResponseTable:
    try:
        doc = json.loads(data.decode("utf-8-sig"), object_pairs_hook=_no_duplicate_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ResponseError(source, f"is not valid JSON ({str(e)[:200]})") from e
    if not isinstance(doc, dict):
        raise ResponseError(source, f"must hold a JSON object with 'responses', not a {type(doc).__name__}")
    unknown = sorted(set(doc) - set(_JSON_TOP))
    if unknown:
        raise ResponseError(source, f"unknown key(s) {unknown[:5]}; valid keys: {', '.join(_JSON_TOP)}")
    if "responses" not in doc or not isinstance(doc["responses"], list):
        raise ResponseError(source, "needs a 'responses' list (one entry per presentation)")
    block = None if doc.get("block") is None else _integer(doc["block"], source, "'block'")
    names = doc.get("channels")
    if names is not None and (not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names)):
        raise ResponseError(source, "'channels' must be a non-empty list of channel names")
    if names is not None:
        limits.channels(len(names))
    limits.rows(len(doc["responses"]))
    ids, pres, values = [], [], []
    for k, e in enumerate(doc["responses"]):
        where = f"responses[{k}]"
        if not isinstance(e, dict):
            raise ResponseError(source, f"{where} is a {type(e).__name__}, expected an object")
        bad = sorted(set(e) - set(_JSON_ENTRY))
        if bad or "image_id" not in e or "response" not in e:
            raise ResponseError(source, f"{where} has keys {sorted(e)[:6]}; required: image_id, response; "
                                        f"optional: presentation")
        ids.append(e["image_id"])
        if "presentation" in e:
            pres.append(_integer(e["presentation"], source, f"{where}.presentation"))
        r = e["response"]
        row = r if isinstance(r, list) else [r]
        if not row:
            raise ResponseError(source, f"{where}.response is an empty list")
        if len(row) > MAX_RESPONSE_CHANNELS or (limits.n_channels is not None and len(row) != limits.n_channels):
            limits.channels(len(row))
        values.append([_number(v, source, f"{where}.response") for v in row])
    if pres and len(pres) != len(ids):
        raise ResponseError(source, "'presentation' is given for some entries but not all")
    widths = {len(v) for v in values}
    if len(widths) > 1:
        k = next(i for i, v in enumerate(values) if len(v) != len(values[0]))
        raise ResponseError(source, f"responses[{k}] has {len(values[k])} channel(s), responses[0] has "
                                    f"{len(values[0])}: wrong channel count")
    c = widths.pop() if widths else (len(names) if names else 1)
    if names is not None and c != len(names):
        raise ResponseError(source, f"rows have {c} channel(s) but 'channels' names {len(names)}")
    limits.values(len(values), c)
    arr = np.asarray(values, dtype=np.float64).reshape(len(values), c)
    return ResponseTable(source, tuple(ids), arr, np.asarray(pres, np.int64) if pres else None,
                         tuple(names) if names else None, block)


def _parse_h5(data: bytes, source: str, limits: _Limits) -> ResponseTable:
    try:
        import h5py
    except ImportError as e:
        raise LiveError("reading HDF5 response files needs h5py: `pip install h5py`") from e
    try:
        f = h5py.File(io.BytesIO(data), "r")
    except Exception as e:  # h5py raises OSError, ValueError and others for non-HDF5 bytes
        raise ResponseError(source, f"is not a readable HDF5 file ({type(e).__name__}: {str(e)[:200]})") from e
    try:
        with f:
            # everything up to the reads below looks at metadata only: shapes, types, layouts, filters
            ids_ds = _h5_dataset(f, "image_id", source)
            resp_ds = _h5_dataset(f, "response", source)
            if ids_ds is None or resp_ds is None:
                raise ResponseError(source, f"has no dataset {'image_id' if ids_ds is None else 'response'!r}; it "
                                            "needs 'image_id' (n,) strings and 'response' (n,) or (n, C) numbers")
            if ids_ds.ndim != 1:
                raise ResponseError(source, f"'image_id' has shape {ids_ds.shape}, expected (n,)")
            n = ids_ds.shape[0]
            if resp_ds.ndim not in (1, 2) or resp_ds.shape[0] != n:
                raise ResponseError(source, f"'response' has shape {resp_ds.shape}; expected ({n},) "
                                            f"or ({n}, C) to match 'image_id'")
            if resp_ds.dtype.kind not in "iuf" or resp_ds.dtype.itemsize > 8:
                raise ResponseError(source, f"'response' holds {resp_ds.dtype}, not numbers")
            vlen_ids = ids_ds.dtype.kind == "O" and h5py.check_string_dtype(ids_ds.dtype) is not None
            if not (vlen_ids or (ids_ds.dtype.kind == "S" and ids_ds.dtype.itemsize <= 256)):
                raise ResponseError(source, f"'image_id' holds {ids_ds.dtype}, not strings (variable-length, or "
                                            "fixed-length of at most 256 bytes)")
            limits.values(n, 1 if resp_ds.ndim == 1 else resp_ds.shape[1])
            pres_ds = _h5_dataset(f, "presentation", source, required=False)
            if pres_ds is not None and (pres_ds.shape != ids_ds.shape or pres_ds.dtype.kind not in "iu"
                                        or pres_ds.dtype.itemsize > 8):
                raise ResponseError(source, f"'presentation' must be ({n},) integers")
            for name, ds in (("image_id", ids_ds), ("response", resp_ds), ("presentation", pres_ds)):
                if ds is not None:
                    _check_h5_chunks(ds, name, source)
            block = None
            if "block" in f.attrs:
                attr = f.attrs.get_id("block")
                if attr.shape != () or attr.dtype.kind not in "iu":
                    raise ResponseError(source, f"attribute 'block' has shape {attr.shape} and type {attr.dtype}, "
                                                "not one integer")
                block = int(f.attrs["block"])
            # now the values: every size and every compressed chunk has been checked
            ids = _read_h5_ids(ids_ds, vlen_ids, source)
            values = np.asarray(resp_ds[()], dtype=np.float64)
            values = values[:, None] if values.ndim == 1 else values
            pres = None
            if pres_ds is not None:
                pres = np.asarray(pres_ds[()], np.int64)
                if (pres < 0).any():
                    raise ResponseError(source, "'presentation' has negative values")
    except ResponseError:
        raise
    except Exception as e:  # a damaged file can fail on any read
        raise ResponseError(source, f"cannot be read as HDF5 ({type(e).__name__}: {str(e)[:200]})") from e
    return ResponseTable(source, tuple(ids), values, pres, None, block)


def _h5_dataset(f, name: str, source: str, required: bool = True):
    """Dataset ``name`` of the file's root if it is a plain one; :class:`UnsafeResponseError` otherwise.

    Plain: reached by a hard link, its values stored in this file (not a virtual dataset, no
    external storage), with no filter outside :data:`H5_FILTERS`. Nothing is read but metadata.
    """
    import h5py

    link = f.get(name, getlink=True)
    if link is None:
        return None
    if isinstance(link, h5py.ExternalLink):
        raise UnsafeResponseError(source, f"{name!r} is an external link to {link.filename!r}:{link.path!r}; "
                                          "response files must hold their datasets, not links to other files")
    if isinstance(link, h5py.SoftLink):
        raise UnsafeResponseError(source, f"{name!r} is a soft link to {link.path!r}; write the dataset itself")
    if f.get(name, getclass=True) is not h5py.Dataset:
        raise ResponseError(source, f"{name!r} is not a dataset; it needs 'image_id' (n,) strings and "
                                    "'response' (n,) or (n, C) numbers")
    dsid = h5py.h5d.open(f.id, name.encode())
    dcpl = dsid.get_create_plist()
    if dcpl.get_layout() == h5py.h5d.VIRTUAL:
        raise UnsafeResponseError(source, f"{name!r} is a virtual dataset (its values would come from other "
                                          "files); write the values into the file itself")
    if dcpl.get_external_count():
        raise UnsafeResponseError(source, f"{name!r} keeps its values in {dcpl.get_external_count()} external "
                                          "file(s); write the values into the file itself")
    codes = [dcpl.get_filter(i)[0] for i in range(dcpl.get_nfilters())]
    bad = [c for c in codes if c not in H5_FILTERS]
    if bad or len(set(codes)) != len(codes):
        raise UnsafeResponseError(source, f"{name!r} uses HDF5 filter id(s) {codes}; allowed, each at most once: "
                                          + ", ".join(f"{k} {v}" for k, v in H5_FILTERS.items()))
    return h5py.Dataset(dsid)


def _check_h5_chunks(ds, name: str, source: str) -> None:
    """Refuse chunks that are too large, or that inflate beyond their declared size, before HDF5 reads them.

    HDF5's gzip filter grows its output buffer for as long as the stream goes on, so a chunk
    declared as 16 bytes can inflate to gigabytes; each compressed chunk is inflated here
    first, stopping one byte past its declared size.
    """
    import h5py

    dsid = ds.id
    dcpl = dsid.get_create_plist()
    if dcpl.get_layout() != h5py.h5d.CHUNKED:
        return  # contiguous or compact values are read as stored: no more bytes than the file has
    # on disk a variable-length string is a 16-byte heap reference
    chunk_bytes = math.prod(dcpl.get_chunk()) * max(ds.dtype.itemsize, 16 if ds.dtype.kind == "O" else 1)
    if chunk_bytes > MAX_DECODED_BYTES:
        raise ResponseTooLargeError(source, f"{name!r} declares chunks of {chunk_bytes} bytes, more than the "
                                            f"{MAX_DECODED_BYTES}-byte limit (MAX_DECODED_BYTES)")
    filters = [dcpl.get_filter(i)[0] for i in range(dcpl.get_nfilters())]
    if 1 not in filters:
        return  # shuffle and fletcher32 do not change a chunk's size
    count = dsid.get_num_chunks()
    if count > MAX_H5_CHUNKS:
        raise ResponseTooLargeError(source, f"{name!r} is stored in {count} chunks, more than the {MAX_H5_CHUNKS} "
                                            "allowed (MAX_H5_CHUNKS)")
    limit = chunk_bytes + 4 * filters.count(3)
    for i in range(count):
        offset = dsid.get_chunk_info(i).chunk_offset
        mask, raw = dsid.read_direct_chunk(offset)
        for k in reversed(range(len(filters))):  # filters undo in reverse order; a set mask bit: not applied
            if mask & (1 << k):
                continue
            if filters[k] == 3:
                raw = raw[:-4]  # the fletcher32 checksum; HDF5 verifies it
            elif filters[k] == 1:
                inflater = zlib.decompressobj()
                try:
                    raw = inflater.decompress(raw, limit + 1)
                except zlib.error as e:
                    raise ResponseError(source, f"{name!r}, chunk at {offset}: not valid gzip data ({e})") from None
                if len(raw) > limit:
                    raise ResponseTooLargeError(source, f"{name!r}, chunk at {offset}: inflates to more than its "
                                                        f"declared {chunk_bytes} bytes (a compression bomb); "
                                                        "nothing was read")


def _read_h5_ids(ds, vlen: bool, source: str) -> list[str]:
    """The image ids, each cut at 256 bytes (a valid id has at most 64).

    Variable-length strings are converted by HDF5 into fixed 256-byte slots: elements may
    share one heap object, and read as Python strings ``n`` of them could take ``n`` times
    the file's size.
    """
    import h5py

    if vlen:
        raw = np.zeros(ds.shape, dtype="S256")
        ds.id.read(h5py.h5s.ALL, h5py.h5s.ALL, raw, mtype=h5py.h5t.py_create(raw.dtype))
    else:
        raw = ds[()]
    ids = []
    for v in raw.tolist():
        try:
            ids.append(v.decode("utf-8"))
        except UnicodeDecodeError:
            raise ResponseError(source, f"image id {v!r} is not UTF-8") from None
    return ids


def _check_table(t: ResponseTable, block: int, expected: set[str], repeats: int, n_channels: int | None) -> None:
    src = t.source
    if t.block is not None and t.block != block:
        raise ResponseError(src, f"says it answers block {t.block}, but it is the response to block {block}")
    for k, i in enumerate(t.image_ids):
        try:
            check_image_id(i)
        except ValueError as e:
            raise ResponseError(src, f"row {k}: {e}") from None
        if i not in expected:
            shown = ", ".join(sorted(expected)[:4]) + (", ..." if len(expected) > 4 else "")
            raise ResponseError(src, f"row {k}: unknown image id {i!r}: block {block} showed {len(expected)} "
                                     f"image(s) ({shown})")
    c = t.n_channels
    if n_channels is not None and c is not None and c != n_channels:
        raise ResponseError(src, f"has {c} channel(s) per row; this experiment records {n_channels}: "
                                 "wrong channel count")
    bad = ~np.isfinite(t.values)
    if bad.any():
        r, ch = (int(v) for v in np.argwhere(bad)[0])
        raise ResponseError(src, f"row {r} (image {t.image_ids[r]!r}), channel {ch}: response is "
                                 f"{t.values[r, ch]!r}; responses must be finite (leave a missing image out)")
    counts = Counter(t.image_ids)
    over = [(i, n) for i, n in counts.items() if n > repeats]
    if over:
        i, n = over[0]
        raise ResponseError(src, f"image id {i!r} appears {n} times but block {block} asked for {repeats} "
                                 "presentation(s): duplicated rows?")
    if t.presentation is not None:
        pairs = Counter(zip(t.image_ids, t.presentation.tolist()))
        dup = [p for p, n in pairs.items() if n > 1]
        if dup:
            raise ResponseError(src, f"image id {dup[0][0]!r}, presentation {dup[0][1]} appears twice: "
                                     "duplicated rows")
        high = t.presentation >= repeats
        if high.any():
            k = int(np.argmax(high))
            raise ResponseError(src, f"row {k}: presentation {int(t.presentation[k])} but block {block} asked for "
                                     f"{repeats} presentation(s) (0..{repeats - 1})")


def encode_response(fmt: str, block: int, image_ids: Sequence[str], values: np.ndarray,
                    presentation: Sequence[int] | None = None, channel_names: Sequence[str] | None = None) -> bytes:
    """Write a response file's contents (the inverse of :func:`parse_response`).

    Parameters
    ----------
    fmt : {"csv", "json", "h5"}
    block : int
    image_ids : (n,) str
    values : (n, C) or (n,) array of responses, one row per presentation
    presentation : (n,) ints or None
    channel_names : C names or None (``ch0, ch1, ...``)

    Returns
    -------
    bytes ; floats are written exactly (shortest round-trip form).
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[:, None] if v.ndim == 1 else v
    if v.ndim != 2 or v.shape[0] != len(image_ids):
        raise ValueError(f"values must have shape ({len(image_ids)}, C), got {v.shape}")
    names = list(channel_names) if channel_names is not None else [f"ch{c}" for c in range(v.shape[1])]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["image_id"] + (["presentation"] if presentation is not None else []) + names)
        for k, i in enumerate(image_ids):
            w.writerow([i] + ([int(presentation[k])] if presentation is not None else []) + [repr(float(x)) for x in v[k]])
        return buf.getvalue().encode()
    if fmt == "json":
        rows = []
        for k, i in enumerate(image_ids):
            e: dict[str, Any] = {"image_id": i}
            if presentation is not None:
                e["presentation"] = int(presentation[k])
            e["response"] = [float(x) for x in v[k]]
            rows.append(e)
        return (json.dumps({"block": int(block), "channels": names, "responses": rows}) + "\n").encode()
    if fmt == "h5":
        import h5py

        buf = io.BytesIO()
        with h5py.File(buf, "w") as f:
            f.attrs["block"] = int(block)
            f.create_dataset("image_id", data=np.asarray(list(image_ids), dtype=object),
                             dtype=h5py.string_dtype("utf-8"))
            f.create_dataset("response", data=v)
            if presentation is not None:
                f.create_dataset("presentation", data=np.asarray(presentation, np.int64))
        return buf.getvalue()
    raise ValueError(f"unknown response format {fmt!r}; valid: csv, json, h5")


# --------------------------------------------------------------------------------------
# channels
# --------------------------------------------------------------------------------------
def parse_channels(spec: Any) -> str | int | tuple[int, ...]:
    """Normalise a channel selection: ``"all"``, one index, or a list of indices.

    Accepts the command-line forms ``"all"``, ``"3"`` and ``"0,2,5"`` too.
    """
    if isinstance(spec, str):
        s = spec.strip()
        if s == "all":
            return "all"
        try:
            parts = [int(p) for p in s.split(",")]
        except ValueError:
            raise ValueError(f"channels must be 'all', an index or a comma-separated list of indices, "
                             f"got {spec!r}") from None
        return parts[0] if len(parts) == 1 else tuple(parts)
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        if spec < 0:
            raise ValueError(f"channel index must be >= 0, got {spec}")
        return int(spec)
    if isinstance(spec, (list, tuple)) and spec and all(isinstance(c, (int, np.integer)) and not isinstance(c, bool)
                                                        and c >= 0 for c in spec):
        if len(set(spec)) != len(spec):
            raise ValueError(f"channel list has repeated indices: {list(spec)}")
        return tuple(int(c) for c in spec)
    raise ValueError(f"channels must be 'all', a non-negative index or a non-empty list of them, got {spec!r}")


def channel_index(spec: Any, n_channels: int) -> np.ndarray:
    """Indices selected by ``spec`` among ``n_channels``; a clear error when out of range."""
    spec = parse_channels(spec)
    if spec == "all":
        return np.arange(n_channels)
    idx = np.atleast_1d(np.asarray(spec, dtype=np.int64))
    if (idx >= n_channels).any():
        raise ValueError(f"channel selection {spec} is out of range: the rig records {n_channels} channel(s) "
                         f"(valid indices 0..{n_channels - 1}, or 'all')")
    return idx
