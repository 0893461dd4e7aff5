"""File helpers every part of the toolkit writes through: atomic writes, one JSON rule, one PNG writer.

Atomic writes
-------------
:func:`atomic_write_bytes` writes to ``.<name>.tmp<pid>`` beside the target, flushes it to disk
and renames it over the target, so a reader (or a resumed run after ``kill -9``) sees the old
file or the new one, never a part. Temporary files a killed writer leaves follow that name
pattern, so a resume can recognise and delete them (:func:`landscape.live.folder.remove_stale_temporaries`).

The JSON rule
-------------
:func:`jsonable` turns a value into plain JSON types, and every JSON file of the toolkit goes
through it (:func:`dumps_json`, :func:`write_json`):

* numpy scalars and arrays, torch tensors -> Python numbers and (nested) lists;
* **NaN, +inf and -inf -> ``null``** (strict JSON has no non-finite numbers; a reader in any
  language opens the file). A ``null`` where a number is expected means "not a finite value";
* ``torch.dtype``, ``torch.device``, :class:`pathlib.Path` -> their ``str``;
* tuples -> lists, mapping keys -> ``str``.

Anything else raises a ``TypeError`` naming the type (no silent ``str()``).

Digests and locks
-----------------
:func:`sha256_file` gives a file's sha256 and size; :func:`append_line` appends one line to a
log such as a run's ``manifest.jsonl`` (a failed append is cut back, so no torn line stays).
:func:`write_with_digest` writes a file and its ``<name>.sha256`` beside it (``sha256sum -c``
reads it); :func:`check_digest` checks a file against that sidecar before it is read and
raises :class:`DamagedFile` naming the file and what is wrong. :func:`folder_lock` holds an
exclusive ``fcntl.flock`` on ``<folder>/.lock`` for one writer; a second writer gets
:class:`FolderBusy` naming the holder (pid, host, since). The kernel drops the lock when its
process dies, so a lock left by ``kill -9`` is free again without any clean-up.

Images
------
:func:`save_png` ``(path, image)``: one image, (3, H, W) float in [0, 1] (tensor or array) or
(H, W, 3) uint8, written atomically as an 8-bit RGB PNG.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_save_npz", "atomic_write_json", "jsonable",
           "dumps_json", "json_roundtrip", "write_json", "read_json", "image_to_uint8", "png_bytes", "save_png",
           "sha256_bytes", "sha256_file", "append_line", "DamagedFile", "write_with_digest", "check_digest",
           "digest_path", "FolderBusy", "folder_lock", "LOCK_NAME", "read_checked", "save_npz_with_digest",
           "load_npz_checked", "write_json_with_digest", "read_json_checked"]


# --------------------------------------------------------------------------------------
# atomic writes
# --------------------------------------------------------------------------------------
def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part.

    The parent folder is created. Returns the path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass  # the write's own error matters more; a stale temporary is removed on resume
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """:func:`atomic_write_bytes` of UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_save_npz(path: str | os.PathLike, **arrays: Any) -> Path:
    """``np.savez(path, **arrays)``, atomically (uncompressed; exactly ``path``, no suffix added)."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return atomic_write_bytes(path, buf.getvalue())


# --------------------------------------------------------------------------------------
# digests
# --------------------------------------------------------------------------------------
class DamagedFile(ValueError):
    """A file does not match its recorded digest or size (or is missing); the message names it."""


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> tuple[str, int]:
    """``(hex sha256, size in bytes)`` of a file, read in 1 MiB pieces."""
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


def append_line(path: str | os.PathLike, line: str) -> None:
    """Append ``line`` (a newline is added) to ``path`` and flush it to disk.

    If the write fails (disk full, file size limit) the file is cut back to its length before
    the call, so a reader never finds a torn line left by a failed append; a torn line can
    still follow a ``kill -9`` in the middle of the write, and readers treat a last line
    without its newline as not written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        start = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
            raise
    finally:
        os.close(fd)


def digest_path(path: str | os.PathLike) -> Path:
    """``<path>.sha256``: the sidecar digest of a file."""
    path = Path(path)
    return path.with_name(path.name + ".sha256")


def write_with_digest(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically with its sidecar ``<name>.sha256`` (``sha256sum`` format).

    Order: the sidecar lists the new digest *and* the old file's (when one exists), then the
    file is replaced, then the sidecar lists the new digest alone; a kill at any point leaves
    a file whose digest the sidecar lists.
    """
    path = Path(path)
    new = sha256_bytes(data)
    lines = [new]
    side = digest_path(path)
    if path.is_file() and side.is_file():
        lines.append(sha256_file(path)[0])
    atomic_write_text(side, "".join(f"{h}  {path.name}\n" for h in lines))
    atomic_write_bytes(path, data)
    if len(lines) > 1:
        atomic_write_text(side, f"{new}  {path.name}\n")
    return path


def read_checked(path: str | os.PathLike, required: bool = False) -> bytes:
    """The bytes of ``path``, checked against its sidecar ``<name>.sha256`` when there is one.

    A file without a sidecar (written before sidecars existed, or by hand) is read unchecked
    unless ``required``.

    Raises
    ------
    FileNotFoundError
        No such file (and no sidecar).
    DamagedFile
        The file is missing beside its sidecar, or its sha256 is not a recorded one (it was
        damaged after it was written); the message names the file.
    """
    path = Path(path)
    side = digest_path(path)
    if not side.is_file():
        if required:
            raise DamagedFile(f"{side} is missing: {path} cannot be checked")
        return path.read_bytes()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DamagedFile(f"{path} is missing (its digest {side.name} is there)") from None
    try:
        listed = {ln.split()[0] for ln in side.read_text(encoding="ascii").splitlines() if ln.strip()}
    except (UnicodeDecodeError, IndexError, OSError):
        raise DamagedFile(f"{side} is damaged (not sha256sum lines)") from None
    h = sha256_bytes(data)
    if h not in listed:
        raise DamagedFile(f"{path} is damaged: digest mismatch (sha256 {h[:16]}..., {len(data)} bytes; {side.name} "
                          f"records {sorted(listed)[0][:16]}...); restore it from a copy or compute it again")
    return data


def check_digest(path: str | os.PathLike, required: bool = False) -> bool:
    """Check ``path`` against its sidecar (see :func:`read_checked`); False when it has none."""
    read_checked(path, required)
    return digest_path(path).is_file()


def save_npz_with_digest(path: str | os.PathLike, arrays: dict[str, Any]) -> Path:
    """``np.savez`` of ``arrays`` to exactly ``path``, atomically, with its ``.sha256`` sidecar."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return write_with_digest(path, buf.getvalue())


def load_npz_checked(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` (no pickles), its sidecar digest checked first when it has one."""
    path = Path(path)
    data = read_checked(path)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception as e:  # noqa: BLE001 - BadZipFile, ValueError, EOFError ...
        raise DamagedFile(f"{path} is damaged and cannot be read ({type(e).__name__}: {e})") from None


def write_json_with_digest(path: str | os.PathLike, obj: Any, indent: int | None = 2) -> Path:
    """:func:`write_json` plus the ``.sha256`` sidecar."""
    return write_with_digest(path, (dumps_json(obj, indent) + "\n").encode("utf-8"))


def read_json_checked(path: str | os.PathLike) -> Any:
    """:func:`read_json`, the sidecar digest checked first when there is one."""
    path = Path(path)
    data = read_checked(path)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is not valid JSON ({e}); it may have been edited or damaged") from None


# --------------------------------------------------------------------------------------
# locks
# --------------------------------------------------------------------------------------
#: the lock file of a run or sweep folder
LOCK_NAME = ".lock"


class FolderBusy(RuntimeError):
    """Another process (or another writer in this one) holds the folder's lock."""


def lock_holder(folder: str | os.PathLike) -> dict | None:
    """What ``<folder>/.lock`` says about its holder (pid, host, since, what), or None."""
    try:
        text = (Path(folder) / LOCK_NAME).read_text(encoding="utf-8")
        return json.loads(text) if text.strip() else None
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, what: str = "writer"):
    """Hold an exclusive lock on ``folder`` (created if missing) for the duration.

    The lock is ``fcntl.flock`` on ``<folder>/.lock``, which holds the holder's pid, host,
    start time and ``what`` while it is held (emptied on release). The kernel releases it when
    the holding process dies, so after ``kill -9`` the next writer simply takes it.

    Raises
    ------
    FolderBusy
        Another writer holds it; the message names the holder.
    """
    folder = Path(folder)
    try:
        import fcntl
    except ImportError:  # Windows: no flock; one writer per folder is then the user's job
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            h = lock_holder(folder) or {}
            who = (f"process {h.get('pid')} on {h.get('host')} ({h.get('what', 'writer')}, since {h.get('since')})"
                   if h else "another process")
            raise FolderBusy(f"{folder} is in use by {who}; wait for it to end, or stop it "
                             f"(its lock {folder / LOCK_NAME} is released when that process exits)") from None
        info = {"pid": os.getpid(), "host": socket.gethostname(), "what": what,
                "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        with contextlib.suppress(OSError):  # a full disk must not stop the writer from holding its lock
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode() + b"\n", 0)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------
# JSON: one encoder, one NaN rule
# --------------------------------------------------------------------------------------
def _torch():
    # torch is imported only by code that made a tensor; looking it up here keeps this module light
    return sys.modules.get("torch")


def jsonable(value: Any) -> Any:
    """Plain JSON values under the toolkit's one rule (see the module docstring): NaN/inf -> None.

    Parameters
    ----------
    value : nested dicts, lists, tuples, numbers, strings, numpy/torch values, Paths

    Returns
    -------
    The same structure built only of dict, list, str, int, float (finite), bool and None.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, Path):
        return str(value)
    torch = _torch()
    if torch is not None:
        if torch.is_tensor(value):
            return jsonable(value.detach().cpu().tolist())
        if isinstance(value, (torch.dtype, torch.device)):
            return str(value)
    raise TypeError(f"cannot write a {type(value).__name__} to JSON ({value!r:.80}); convert it to numbers, "
                    "strings, lists or dicts first")


def dumps_json(obj: Any, indent: int | None = 2) -> str:
    """JSON text of ``obj`` under the one rule (strict JSON: no NaN or Infinity tokens)."""
    return json.dumps(jsonable(obj), indent=indent, allow_nan=False)


def json_roundtrip(obj: Any) -> Any:
    """``obj`` as it reads back from a JSON file written by :func:`write_json` (for comparisons)."""
    return json.loads(dumps_json(obj, indent=None))


def write_json(path: str | os.PathLike, obj: Any, indent: int | None = 2) -> Path:
    """Write ``obj`` as JSON (one rule, trailing newline), atomically. Returns the path."""
    return atomic_write_text(path, dumps_json(obj, indent) + "\n")


atomic_write_json = write_json  # the name the run code has always used


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file; a file that does not parse raises a ``ValueError`` naming it."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}); "
                         "it may have been edited or damaged") from None


# --------------------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------------------
def image_to_uint8(image: Any) -> np.ndarray:
    """One image as an (H, W, 3) uint8 array.

    Parameters
    ----------
    image : (3, H, W) float tensor/array with values in [0, 1] (clipped), or (H, W, 3) uint8 array

    Returns
    -------
    (H, W, 3) uint8 array
    """
    torch = _torch()
    if torch is not None and torch.is_tensor(image):
        image = image.detach().cpu()
        if image.dtype == torch.uint8:
            image = image.numpy()
        else:
            image = image.float().numpy()
    arr = np.asarray(image)
    if arr.dtype == np.uint8:
        if arr.ndim != 3 or arr.shape[2] != 3:
            raise ValueError(f"a uint8 image must have shape (H, W, 3), got {arr.shape}")
        return arr
    if arr.ndim != 3 or arr.shape[0] != 3:
        raise ValueError(f"expected one (3, H, W) image in [0, 1] or an (H, W, 3) uint8 image, got shape "
                         f"{arr.shape} ({arr.dtype})")
    # float32 arithmetic, as every earlier writer of run images used: the same bytes as before
    return (np.clip(arr.astype(np.float32), 0, 1).transpose(1, 2, 0) * 255).round().astype(np.uint8)


def png_bytes(image: Any, scale: int = 1) -> bytes:
    """PNG file contents of one image (see :func:`image_to_uint8` for the accepted forms),
    enlarged ``scale`` times by pixel repetition (for small images in widgets and pages)."""
    from PIL import Image

    im = Image.fromarray(image_to_uint8(image))
    if scale > 1:
        im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def save_png(path: str | os.PathLike, image: Any) -> Path:
    """Save one image as an 8-bit RGB PNG, atomically.

    Parameters
    ----------
    path : file to write (its folder is created)
    image : (3, H, W) float tensor/array in [0, 1], or (H, W, 3) uint8 array

    Returns
    -------
    Path of the written file
    """
    return atomic_write_bytes(path, png_bytes(image))
