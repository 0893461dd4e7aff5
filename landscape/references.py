"""Natural reference image sets: the denominator of XDream's relative activation.

XDream divides by the best response over the 1,431,167 ImageNet training images; no set that
large ships with any package, and the best of a small set is lower (so a relative activation
against it is higher), by a factor that depends on the set and the unit. Every summary
therefore names the set and its size, and :func:`small_set_warning` says so for small sets.

Named sets (no download; ``--references NAME``, names joined by ``+`` are concatenated)
-------------------------------------------------------------------------------------
``cifar``
    The 20 CIFAR-10 and 20 CIFAR-100 test images (32 x 32) that ship as sample data in the
    ``foolbox`` wheel (MIT; installed with ``pip install --no-deps foolbox==3.3.4``).
``cifar10``, ``cifar100``, ``imagenet``
    Those sets alone; ``imagenet``: foolbox's 20 ImageNet validation images.
``photos``
    The distinct colour photographs bundled with scikit-image (8) and scikit-learn (2).
``skimage``
    The 8 images this project formerly used by default (scikit-image's photographs, with
    ``chelsea`` twice, as ``chelsea`` and ``cat``; kept to reproduce earlier numbers).
``photo-crops:N``
    N square crops (side 1/8 to 1/2 of the short side, seeded) of the ``photos``: a larger set
    of natural image content, though not of independent images.

Per-domain defaults (:func:`default_reference_set`): ``cifar`` for CIFAR networks,
``imagenet+photos`` for ImageNet networks. A folder path gives every image in it (use this
for a real natural set).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

#: scikit-image's bundled colour photographs (``skimage.data.<name>()``)
SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "cat", "hubble_deep_field",
                  "immunohistochemistry", "retina", "motorcycle_left")
#: scikit-learn's bundled photographs (``sklearn.datasets.load_sample_image``)
SKLEARN_PHOTOS = ("china.jpg", "flower.jpg")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
FOOLBOX_INSTALL = "pip install --no-deps foolbox==3.3.4"

#: named sets and what they are
REFERENCE_SETS = {
    "cifar": "foolbox's 20 CIFAR-10 + 20 CIFAR-100 test images (32x32)",
    "cifar10": "foolbox's 20 CIFAR-10 test images (32x32)",
    "cifar100": "foolbox's 20 CIFAR-100 test images (32x32)",
    "imagenet": "foolbox's 20 ImageNet validation images",
    "photos": "scikit-image's 8 and scikit-learn's 2 bundled colour photographs",
    "skimage": "the project's former default: 8 scikit-image photographs (one of them twice)",
    "photo-crops:N": "N seeded square crops of the 'photos' (natural content, not independent images)",
}
#: default set per model domain (a zoo classifier's ``info["domain"]``)
DOMAIN_DEFAULTS = {"cifar": "cifar", "imagenet": "imagenet+photos"}
#: sets smaller than this get :func:`small_set_warning`
SMALL_SET = 100


@dataclass
class ReferenceSet:
    """A set of natural reference images.

    Attributes
    ----------
    name : str
        The set's name (a :data:`REFERENCE_SETS` name, names joined by ``+``, or a folder path).
    images : (N, 3, size, size) tensor in [0, 1]
    names : list of N str
        Each image's name (``set/file``).
    description : str
    """

    name: str
    images: torch.Tensor
    names: list[str]
    description: str = ""

    @property
    def n(self) -> int:
        return int(self.images.shape[0])

    @property
    def warning(self) -> str | None:
        """:func:`small_set_warning` for this set, or None."""
        return small_set_warning(self.name, self.n)

    def describe(self) -> dict:
        """``{"name", "n_images", "description", "warning"}`` for summaries."""
        return {"name": self.name, "n_images": self.n, "description": self.description, "warning": self.warning}


def small_set_warning(name: str, n: int) -> str | None:
    """The warning printed beside a relative activation measured against a small set (None if large)."""
    if n >= SMALL_SET:
        return None
    return (f"the reference set {name!r} has only {n} images (< {SMALL_SET}): the best of a small set is "
            f"lower than the best of ImageNet's 1.43 M images XDream used, so relative activations against it "
            f"are larger, by a factor that depends on the set; compare magnitudes only against the same set")


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


def _skimage_arrays() -> list[tuple[str, np.ndarray]]:
    try:
        from skimage import data
    except ImportError as e:
        raise ImportError("the 'skimage' and 'photos' reference sets ship with scikit-image: "
                          "`pip install scikit-image`, or pass a folder of images") from e
    out = []
    for name in SKIMAGE_PHOTOS:
        loader = getattr(data, name, None)
        if loader is None:
            continue
        try:
            arr = loader()
        except Exception:  # datasets fetched by pooch are not bundled; the listed ones are
            continue
        if np.asarray(arr).ndim == 3 and np.asarray(arr).shape[-1] >= 3:
            out.append((f"skimage/{name}", np.asarray(arr)))
    if not out:
        raise RuntimeError("scikit-image ships no usable colour photographs here; pass a folder of images")
    return out


def _sklearn_arrays() -> list[tuple[str, np.ndarray]]:
    from sklearn.datasets import load_sample_image

    return [(f"sklearn/{n}", np.asarray(load_sample_image(n))) for n in SKLEARN_PHOTOS]


def _photo_arrays() -> list[tuple[str, np.ndarray]]:
    """scikit-image's distinct colour photographs (``cat`` is ``chelsea`` again; the motorcycle is the
    left image of ``stereo_motorcycle``) and scikit-learn's."""
    from skimage import data

    sk = [(n, a) for n, a in _skimage_arrays() if n != "skimage/cat"]
    return sk + [("skimage/motorcycle_left", np.asarray(data.stereo_motorcycle()[0]))] + _sklearn_arrays()


def foolbox_data_dir() -> Path:
    """The folder of sample images inside the installed ``foolbox`` wheel (foolbox is not imported)."""
    spec = importlib.util.find_spec("foolbox")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the 'cifar' and 'imagenet' reference sets are the sample images of the foolbox wheel, "
                          f"which is not installed: `{FOOLBOX_INSTALL}` (its dependencies are not needed), or pass "
                          f"--references with another set ({', '.join(REFERENCE_SETS)}) or a folder of images")
    d = Path(list(spec.submodule_search_locations)[0]) / "data"
    if not d.is_dir():
        raise FileNotFoundError(f"{d} is missing from the installed foolbox; reinstall it: `{FOOLBOX_INSTALL}`")
    return d


def _foolbox_arrays(prefix: str) -> list[tuple[str, np.ndarray]]:
    from PIL import Image

    files = sorted(p for p in foolbox_data_dir().iterdir() if p.name.startswith(prefix + "_"))
    if not files:
        raise FileNotFoundError(f"foolbox's data folder holds no {prefix}_* images; reinstall it: `{FOOLBOX_INSTALL}`")
    return [(f"foolbox/{p.name}", np.asarray(Image.open(p).convert("RGB"))) for p in files]


def _crops(n: int, size: int, seed: int = 0) -> tuple[torch.Tensor, list[str]]:
    photos = _photo_arrays()
    rng = np.random.default_rng(seed)
    imgs, names = [], []
    for k in range(n):
        pname, arr = photos[int(rng.integers(len(photos)))]
        h, w = arr.shape[:2]
        side = int(rng.uniform(1 / 8, 1 / 2) * min(h, w))
        y, x = int(rng.integers(h - side + 1)), int(rng.integers(w - side + 1))
        imgs.append(_to_tensor(arr[y:y + side, x:x + side], size))
        names.append(f"{pname}[{y}:{y + side},{x}:{x + side}]")
    return torch.stack(imgs), names


def _named(part: str, size: int) -> tuple[torch.Tensor, list[str], str]:
    if part.startswith("photo-crops:"):
        try:
            n = int(part.split(":", 1)[1])
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"reference set {part!r}: give a positive number of crops, e.g. photo-crops:500")
        imgs, names = _crops(n, size)
        return imgs, names, f"{n} seeded square crops of the 'photos'"
    arrays = {"cifar": lambda: _foolbox_arrays("cifar10") + _foolbox_arrays("cifar100"),
              "cifar10": lambda: _foolbox_arrays("cifar10"), "cifar100": lambda: _foolbox_arrays("cifar100"),
              "imagenet": lambda: _foolbox_arrays("imagenet"), "skimage": _skimage_arrays,
              "photos": _photo_arrays}
    if part not in arrays:
        raise ValueError(f"unknown reference set {part!r}; named sets: {', '.join(REFERENCE_SETS)} "
                         f"(join names with '+'), or a folder of images")
    pairs = arrays[part]()
    return torch.stack([_to_tensor(a, size) for _, a in pairs]), [n for n, _ in pairs], REFERENCE_SETS[part]


def _folder(folder: Path, size: int) -> tuple[torch.Tensor, list[str]]:
    from PIL import Image

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"{folder} holds no image files ({', '.join(IMAGE_SUFFIXES)})")
    return torch.stack([_to_tensor(np.asarray(Image.open(p).convert("RGB")), size) for p in files]), \
        [p.name for p in files]


def validate_reference_source(source: str | os.PathLike) -> str:
    """Check a set name (names joined by ``+``) or folder without loading images; return it as a string.

    Raises
    ------
    ValueError, FileNotFoundError
        Naming the bad part and the valid sets.
    """
    src = os.fspath(source)
    if Path(src).is_dir():
        return src
    if os.sep in src or src.startswith("."):
        raise FileNotFoundError(f"reference image folder {src} does not exist; give a folder or a named set "
                                f"({', '.join(REFERENCE_SETS)})")
    for part in (p.strip() for p in src.split("+")):
        if part.startswith("photo-crops:"):
            n = part.split(":", 1)[1]
            if not (n.isdigit() and int(n) >= 1):
                raise ValueError(f"reference set {part!r}: give a positive number of crops, e.g. photo-crops:500")
        elif part not in REFERENCE_SETS:
            raise ValueError(f"unknown reference set {part!r}; named sets: {', '.join(REFERENCE_SETS)} "
                             f"(join names with '+'), or a folder of images")
        try:  # the package that carries the images is there (checked before a long run, not after)
            if part in ("cifar", "cifar10", "cifar100", "imagenet"):
                foolbox_data_dir()
            elif importlib.util.find_spec("skimage") is None:
                raise ImportError(f"the {part!r} reference set comes from scikit-image: `pip install scikit-image`")
        except ImportError as e:
            raise RuntimeError(str(e)) from None
    return src


def input_size(unit, default: int = 224) -> int:
    """The side a unit's model takes images at (so references are shown at it, resampled once)."""
    model = getattr(unit, "model", None)
    size = getattr(model, "input_size", None)
    return int(size) if size else default


def load_reference_set(source: str | os.PathLike = "photos", size: int = 224) -> ReferenceSet:
    """Load a reference set by name (see the module docstring) or from a folder.

    Parameters
    ----------
    source : str or path
        A set name, names joined by ``+``, or a folder of images.
    size : int
        Output side; images are centre-cropped to a square and resized. Use the model's input
        side (:func:`input_size`): a CIFAR image blown up to 224 and shrunk back by the model
        is blurred and scores lower.

    Returns
    -------
    ReferenceSet
    """
    src = validate_reference_source(source)
    p = Path(src)
    if p.is_dir():
        imgs, names = _folder(p, size)
        return ReferenceSet(str(p), imgs, names, f"every image in the folder {p}")
    parts = [s.strip() for s in src.split("+")]
    loaded = [_named(s, size) for s in parts]
    return ReferenceSet(src, torch.cat([x[0] for x in loaded]), [n for x in loaded for n in x[1]],
                        "; ".join(x[2] for x in loaded))


def default_reference_set(model: str) -> str:
    """The default set for a zoo classifier: by its domain (:data:`DOMAIN_DEFAULTS`).

    Raises
    ------
    ValueError
        When the model's domain is unknown: pass a set or a folder explicitly.
    """
    from . import zoo

    domain = zoo.get(model).info.get("domain")
    if domain not in DOMAIN_DEFAULTS:
        raise ValueError(f"model {model!r} has no known image domain ({domain!r}), so there is no default reference "
                         f"set; pass --references with a set ({', '.join(REFERENCE_SETS)}) or a folder of images")
    return DOMAIN_DEFAULTS[domain]


def resolve_reference_source(source: str | None, model: str) -> str:
    """``source`` unless it is None or ``"default"``/``"auto"``, else the model's default set."""
    return default_reference_set(model) if source in (None, "default", "auto") else str(source)


def reference_scores(unit, references: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """Clean responses of ``unit`` to the reference images.

    Parameters
    ----------
    unit : Unit
    references : (N, 3, H, W) tensor

    Returns
    -------
    (N,) float64 array
    """
    score = unit.clean if hasattr(unit, "clean") else unit
    device = getattr(unit, "device", references.device)
    out = []
    with torch.no_grad():
        for i in range(0, references.shape[0], batch_size):
            out.append(score(references[i:i + batch_size].to(device)).detach().double().cpu())
    return torch.cat(out).numpy()


def reference_images(source: str | os.PathLike | None = None, size: int = 224) -> tuple[torch.Tensor, list[str]]:
    """Images and names of a reference set (``None``: ``"skimage"``, the former default).

    Prefer :func:`load_reference_set`, which also carries the set's name and size.

    Returns
    -------
    images : (N, 3, size, size) tensor in [0, 1]
    names : list of N names
    """
    s = load_reference_set("skimage" if source is None else source, size)
    return s.images, s.names


def score_over_best_reference(score: float, unit, references: torch.Tensor) -> tuple[float, float, int]:
    """``score`` over the unit's best clean response to ``references``.

    This is XDream's relative activation only when ``score`` is the response to XDream's
    optimized image (the last generation's best by observed score); for that, use
    :func:`landscape.measures.relative_activation_of_run`.

    Returns
    -------
    ratio : float (NaN when the best reference score is not positive)
    best_reference_score : float
    best_index : int
    """
    ref = reference_scores(unit, references)
    i = int(np.nanargmax(ref))
    best = float(ref[i])
    return (score / best if best > 0 else float("nan")), best, i


#: the former name of :func:`score_over_best_reference`, kept for existing callers; it is XDream's
#: relative activation only when given XDream's optimized image's response (use
#: :func:`landscape.measures.relative_activation_of_run` for a run)
relative_activation = score_over_best_reference


def relative_activation_summary(run, unit, references: ReferenceSet) -> dict:
    """The named measures of a run against a reference set, as written to ``summary.json``.

    Parameters
    ----------
    run : landscape.runs.Run
    unit : Unit
        The run's unit (its clean read-out scores the references).
    references : ReferenceSet

    Returns
    -------
    dict
        ``relative_activation`` (XDream's: the last generation's best image by observed score,
        its clean response where known, over the best reference), ``optimized_image``
        (generation, index, response, response_kind, observed_score), ``best_clean_ever`` (the
        oracle: best clean score of any image), ``best_clean_ever_over_reference``,
        ``best_observed_ever``, ``best_reference_score``, ``best_reference_image``,
        ``reference_set`` (:meth:`ReferenceSet.describe`), ``measures`` (what each name means).
    """
    from .measures import relative_activation_of_run

    scores = reference_scores(unit, references.images)
    ra = relative_activation_of_run(run, scores)
    g = ra.generation
    return {
        "relative_activation": ra.value,
        "optimized_image": {"generation": g, "index": ra.index, "response": ra.response,
                            "response_kind": ra.response_kind,
                            "observed_score": float(run.gen_scores[g][ra.index])},
        "best_clean_ever": ra.best_clean_ever,
        "best_clean_ever_over_reference": ra.best_clean_ever_over_reference,
        "best_observed_ever": float(np.nanmax(run.all_scores)),
        "best_reference_score": ra.best_reference_score,
        "best_reference_image": references.names[ra.best_reference_index],
        "reference_set": references.describe(),
        "measures": MEASURE_NOTES,
    }


#: what each name in a summary means (written into ``summary.json``)
MEASURE_NOTES = {
    "relative_activation": "XDream (Xiao & Kreiman 2020): response of the last generation's best image, chosen by "
                           "observed score, clean where known, over the best clean response among the reference set",
    "best_clean_ever": "best noise-free score of any image of any generation (an oracle under noise)",
    "best_clean_ever_over_reference": "best_clean_ever / best_reference_score (not XDream's measure)",
    "best_observed_ever": "best observed (noisy) score of any image",
}
