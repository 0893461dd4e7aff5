"""Natural reference images, and XDream's relative activation against them.

Relative activation = the evolved score / the best score among natural reference images.
By default the references are the photographs that ship with scikit-image (no download);
any folder of images can be used instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

#: scikit-image's bundled colour photographs (``skimage.data.<name>()``)
SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "cat", "hubble_deep_field",
                  "immunohistochemistry", "retina", "motorcycle_left")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def _to_tensor(arr: np.ndarray, size: int) -> torch.Tensor:
    """(H, W[, C]) uint8/float array -> (3, size, size) in [0, 1], centre-cropped to a square."""
    a = np.asarray(arr)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    a = a[..., :3]
    t = torch.as_tensor(a.astype(np.float32) / (255.0 if a.dtype == np.uint8 else 1.0)).permute(2, 0, 1)
    h, w = t.shape[1:]
    s = min(h, w)
    t = t[:, (h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    t = torch.nn.functional.interpolate(t[None], size=(size, size), mode="bilinear", align_corners=False,
                                        antialias=s > size)[0]
    return t.clamp(0, 1)


def reference_images(source: str | os.PathLike | None = None, size: int = 224) -> tuple[torch.Tensor, list[str]]:
    """Load natural reference images.

    Parameters
    ----------
    source : None or folder path
        ``None``: scikit-image's bundled photographs. A folder: every image file in it.
    size : int
        Output side; images are centre-cropped to a square and resized.

    Returns
    -------
    images : (N, 3, size, size) tensor in [0, 1]
    names : list of N names (file names or skimage names)
    """
    if source is None:
        try:
            from skimage import data
        except ImportError as e:
            raise ImportError("the default reference images come with scikit-image: `pip install scikit-image`, "
                              "or pass a folder of images") from e
        imgs, names = [], []
        for name in SKIMAGE_PHOTOS:
            loader = getattr(data, name, None)
            if loader is None:
                continue
            try:
                arr = loader()
            except Exception:  # some datasets need pooch downloads; the bundled ones do not
                continue
            if np.asarray(arr).ndim == 3 and np.asarray(arr).shape[-1] >= 3:
                imgs.append(_to_tensor(arr, size))
                names.append(name)
        if not imgs:
            raise RuntimeError("scikit-image ships no usable colour photographs here; pass a folder of images")
        return torch.stack(imgs), names
    folder = Path(source)
    if not folder.is_dir():
        raise FileNotFoundError(f"reference image folder {folder} does not exist")
    from PIL import Image

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"{folder} holds no image files ({', '.join(IMAGE_SUFFIXES)})")
    return torch.stack([_to_tensor(np.asarray(Image.open(p).convert("RGB")), size) for p in files]), \
        [p.name for p in files]


def relative_activation(score: float, unit, references: torch.Tensor) -> tuple[float, float, int]:
    """XDream's relative activation of ``score`` against the unit's best reference image.

    Parameters
    ----------
    score : float
        Clean score of the evolved image.
    unit : Unit
    references : (N, 3, H, W) reference images

    Returns
    -------
    ratio : float (``score / best``; inf or nan when the best reference score is not positive)
    best_reference_score : float
    best_index : int
    """
    with torch.no_grad():
        ref = unit.clean(references.to(getattr(unit, "device", references.device)))
    i = int(ref.argmax())
    best = float(ref[i])
    ratio = score / best if best > 0 else float("nan")
    return ratio, best, i
