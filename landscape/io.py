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

Images
------
:func:`save_png` ``(path, image)``: one image, (3, H, W) float in [0, 1] (tensor or array) or
(H, W, 3) uint8, written atomically as an 8-bit RGB PNG.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_save_npz", "atomic_write_json", "jsonable",
           "dumps_json", "json_roundtrip", "write_json", "read_json", "image_to_uint8", "png_bytes", "save_png"]


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
