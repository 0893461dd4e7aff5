"""Evolution runs: drive an optimizer against a unit through a generator, keeping every measurement.

Run folder schema (``landscape-run/1``)
---------------------------------------
``meta.json``
    ``format``, ``generator`` (its ``describe()``), ``unit`` (``describe()``), ``optimizer``
    (``config()``), ``budget`` (evaluations), ``seed``, ``init`` (how the first codes were
    made), ``versions`` (python, torch, numpy, landscape), ``created`` (UTC ISO time),
    ``status`` ("running", "complete" or "failed") and, if failed, ``error``.
``generations/gen_NNNNNN.npz``, one per completed generation, written atomically:
    ``codes`` (pop, d) float32, ``scores`` (pop,) float64 observed scores, ``clean_scores``
    (pop,) float64 noise-free scores (NaN when the unit has no clean read-out, e.g. a live
    neuron), ``wall_time`` seconds spent on the generation, ``time`` UNIX time at commit,
    ``evaluations`` total evaluations so far.
``best/gen_NNNNNN.png``
    The best image (by observed score) of each generation.
``scores.csv``
    One row per generation: generation, evaluations, best and mean observed score, best clean
    score, wall time — for a spreadsheet.
``state/checkpoint.pt``
    Optimizer and unit state after the last committed generation (``torch.save``; loaded
    with ``weights_only=True``), used by ``resume``.
``failed/gen_NNNNNN.npz``
    Codes and whatever scores were measured in a generation that failed (NaN scores with
    ``nan_policy="raise"``, or an exception from the unit), so nothing measured is lost.

Exactness of resume: a generation counts once its ``.npz`` and the checkpoint after it are
both on disk. Generation files newer than the checkpoint (a kill between the two writes) are
discarded and redone; since the optimizer and the noise generators are restored bit-for-bit,
the redone generation equals the discarded one, and a resumed run equals an uninterrupted run.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .generators import Generator
from .optim.base import Optimizer
from .units.base import Unit

FORMAT = "landscape-run/1"


class RunError(RuntimeError):
    """A run cannot start, resume, or continue; the message says why and what was kept."""


# --------------------------------------------------------------------------------------
# small file helpers
# --------------------------------------------------------------------------------------
def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_save_npz(path: Path, **arrays: Any) -> None:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, default=json_default) + "\n").encode())


def json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (np.ndarray, torch.Tensor)):
        return np.asarray(o.tolist() if torch.is_tensor(o) else o).tolist()
    if isinstance(o, torch.dtype | torch.device | Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def save_png(path: Path, image: torch.Tensor) -> None:
    """Save one image (3, H, W) in [0, 1] as PNG (atomically)."""
    from PIL import Image

    arr = (image.detach().clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())


def versions() -> dict[str, str]:
    from . import __version__

    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "landscape": __version__}


def generation_path(folder: Path, g: int) -> Path:
    return folder / f"gen_{g:06d}.npz"


# --------------------------------------------------------------------------------------
# the record
# --------------------------------------------------------------------------------------
@dataclass
class Run:
    """A recorded evolution, read back from its folder.

    Attributes
    ----------
    dir : Path
    meta : dict
        Contents of ``meta.json``.
    gen_codes, gen_scores, gen_clean : lists of arrays, one per generation
        (pop_g, d), (pop_g,), (pop_g,) — populations may differ in size.
    wall_time : (n_gen,) array of seconds per generation
    """

    dir: Path
    meta: dict
    gen_codes: list[np.ndarray]
    gen_scores: list[np.ndarray]
    gen_clean: list[np.ndarray]
    wall_time: np.ndarray

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Run":
        """Read a run folder (complete, running or failed)."""
        d = Path(path)
        if not (d / "meta.json").is_file():
            raise FileNotFoundError(f"{d} is not a run folder: it has no meta.json")
        meta = json.loads((d / "meta.json").read_text())
        if meta.get("format") != FORMAT:
            raise ValueError(f"{d}/meta.json has format {meta.get('format')!r}, expected {FORMAT!r}")
        files = sorted((d / "generations").glob("gen_*.npz"))
        last = _checkpoint_generation(d)
        codes, scores, clean, wall = [], [], [], []
        for g, f in enumerate(files):
            if f.name != generation_path(d / "generations", g).name:
                raise ValueError(f"{d}/generations is missing generation {g} (found {f.name})")
            if last is not None and g > last:
                break  # written but not committed: it will be redone on resume
            with np.load(f) as z:
                codes.append(z["codes"])
                scores.append(z["scores"])
                clean.append(z["clean_scores"])
                wall.append(float(z["wall_time"]))
        return cls(d, meta, codes, scores, clean, np.asarray(wall))

    # -- views ----------------------------------------------------------------------------
    @property
    def n_generations(self) -> int:
        return len(self.gen_codes)

    @property
    def codes(self) -> np.ndarray:
        """(n_gen, pop, d) codes; raises if population sizes differ (use ``all_codes``)."""
        return self._stack(self.gen_codes, "codes")

    @property
    def scores(self) -> np.ndarray:
        """(n_gen, pop) observed scores."""
        return self._stack(self.gen_scores, "scores")

    @property
    def clean_scores(self) -> np.ndarray | None:
        """(n_gen, pop) noise-free scores, or None when the unit had none."""
        c = self._stack(self.gen_clean, "clean_scores")
        return None if c.size == 0 or np.all(np.isnan(c)) else c

    @property
    def has_clean_scores(self) -> bool:
        """Whether the unit reported noise-free scores (works with any population sizes)."""
        return any(c.size and not np.all(np.isnan(c)) for c in self.gen_clean)

    @property
    def all_codes(self) -> np.ndarray:
        """(N, d) every evaluated code, in order."""
        return np.concatenate(self.gen_codes) if self.gen_codes else np.zeros((0, 0), np.float32)

    @property
    def all_scores(self) -> np.ndarray:
        """(N,) every observed score, in order."""
        return np.concatenate(self.gen_scores) if self.gen_scores else np.zeros(0)

    @property
    def generation_index(self) -> np.ndarray:
        """(N,) generation of each row of ``all_codes``."""
        return np.concatenate([np.full(len(s), g) for g, s in enumerate(self.gen_scores)]) \
            if self.gen_scores else np.zeros(0, int)

    def _stack(self, xs: list[np.ndarray], what: str) -> np.ndarray:
        if not xs:
            return np.zeros((0, 0))
        if len({x.shape for x in xs}) > 1:
            raise ValueError(f"population sizes differ between generations; use all_{what} and generation_index")
        return np.stack(xs)

    def _ranking_scores(self) -> np.ndarray:
        return np.concatenate(self.gen_clean) if self.has_clean_scores else self.all_scores

    @property
    def best_index(self) -> int:
        """Row of ``all_codes`` with the best clean score (observed score when no clean one)."""
        s = self._ranking_scores()
        if s.size == 0:
            raise ValueError(f"run {self.dir} has no completed generation")
        return int(np.nanargmax(s))

    @property
    def best_code(self) -> np.ndarray:
        """(d,) the best code (by clean score when known, else observed)."""
        return self.all_codes[self.best_index]

    @property
    def best_score(self) -> float:
        """Clean score of ``best_code`` (observed score when no clean one)."""
        return float(self._ranking_scores()[self.best_index])

    def best_per_generation(self) -> np.ndarray:
        """(n_gen,) the best observed score of each generation."""
        return np.array([np.nanmax(s) for s in self.gen_scores])

    def best_clean_per_generation(self) -> np.ndarray:
        """(n_gen,) the best noise-free score of each generation (NaN where there is none)."""
        return np.array([np.nanmax(c) if c.size and not np.all(np.isnan(c)) else np.nan for c in self.gen_clean])

    def mean_per_generation(self) -> np.ndarray:
        """(n_gen,) the mean observed score of each generation."""
        return np.array([np.nanmean(s) for s in self.gen_scores])

    def __repr__(self) -> str:
        return (f"Run(dir={str(self.dir)!r}, generations={self.n_generations}, "
                f"status={self.meta.get('status')!r})")


def _checkpoint_generation(d: Path) -> int | None:
    ck = d / "state" / "checkpoint.pt"
    if not ck.exists():
        return None
    return int(torch.load(ck, map_location="cpu", weights_only=True)["generation"])


# --------------------------------------------------------------------------------------
# scoring
# --------------------------------------------------------------------------------------
def score_codes(generator: Generator, unit: Unit, codes: torch.Tensor, batch_size: int | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Render and score codes.

    Returns
    -------
    images : (n, 3, H, W), scores : (n,) observed, clean : (n,) noise-free (NaN if unknown)
    """
    with torch.no_grad():
        images = generator.render(codes, batch_size)
        if hasattr(unit, "observe"):  # noisy wrapper: one clean pass, then the noise draw
            clean = unit.clean(images)
            scores = unit.observe(clean)
        else:
            scores = unit(images)
            clean = scores if not getattr(unit, "noisy", False) else torch.full_like(scores, float("nan"))
    return images, scores.detach().double().cpu(), clean.detach().double().cpu()


# --------------------------------------------------------------------------------------
# initial codes
# --------------------------------------------------------------------------------------
def initial_codes(generator: Generator, init: Any, n: int, seed: int | None = None,
                  inversion_steps: int = 200) -> tuple[torch.Tensor, dict]:
    """The first codes of a run.

    Parameters
    ----------
    init : "prior", a (n, d) array/tensor of codes, a path to a ``.npy``/``.npz`` of codes or a
        run folder (its last generation), or a (m, 3, H, W) image tensor to encode
        by gradient inversion (XDream's "opt": minimise the pixel MSE between G(z) and the image).
    n : int
        Number of codes wanted from the prior (ignored for given codes).

    Returns
    -------
    codes : (m, d) tensor, description : dict written to meta.json
    """
    if isinstance(init, str) and init == "prior":
        return generator.sample(n, seed=seed), {"type": "prior", "n": n, "seed": seed}
    if isinstance(init, (str, os.PathLike)):
        p = Path(init)
        if p.is_dir():
            run = Run.load(p)
            codes = torch.as_tensor(run.gen_codes[-1])
            return generator.check_codes(codes), {"type": "run", "path": str(p)}
        if p.suffix == ".npy":
            codes = torch.as_tensor(np.load(p))
        elif p.suffix == ".npz":
            with np.load(p) as z:
                codes = torch.as_tensor(z["codes"] if "codes" in z else z[z.files[0]])
        else:
            raise ValueError(f"init path {p} must be a run folder, .npy or .npz; or pass init='prior'")
        return generator.check_codes(codes.float()), {"type": "file", "path": str(p)}
    t = torch.as_tensor(init).float()
    if t.ndim == 4:
        return invert_images(generator, t, steps=inversion_steps, seed=seed), \
            {"type": "inverted_images", "n": int(t.shape[0]), "steps": inversion_steps}
    return generator.check_codes(t), {"type": "codes", "n": int(t.shape[0])}


def invert_images(generator: Generator, images: torch.Tensor, steps: int = 200, lr: float = 0.05,
                  seed: int | None = None) -> torch.Tensor:
    """Codes whose images match ``images`` in pixel MSE (Adam from prior samples).

    Parameters
    ----------
    images : (m, 3, H, W) in [0, 1]; resized to the generator's output size.

    Returns
    -------
    codes : (m, d) tensor
    """
    dev = generator.device
    target = torch.nn.functional.interpolate(images.to(dev).float(), size=(generator.image_size,) * 2,
                                             mode="bilinear", align_corners=False, antialias=True)
    z = generator.sample(target.shape[0], seed=seed, device=dev).clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr * max(generator.prior_scale, 1e-3))
    for _ in range(steps):
        opt.zero_grad()
        loss = ((generator(z) - target) ** 2).mean()
        loss.backward()
        opt.step()
    return z.detach()


# --------------------------------------------------------------------------------------
# evolve
# --------------------------------------------------------------------------------------
def evolve(generator: Generator, unit: Unit, optimizer: Optimizer, budget: int, out: str | os.PathLike,
           seed: int | None = None, resume: bool = False, init: Any = None, progress: bool = True,
           batch_size: int | None = None, save_images: bool = True, callback=None) -> Run:
    """Evolve codes that drive ``unit``, writing every generation to ``out`` as it completes.

    Parameters
    ----------
    generator : Generator
    unit : Unit
    optimizer : Optimizer
        Its ``dim`` must equal ``generator.dim``.
    budget : int
        Number of image evaluations; the run stops after the generation that reaches it.
    out : path
        Run folder (created). If it holds a run, ``resume=True`` continues it.
    seed : int or None
        Recorded in ``meta.json`` and used for the initial prior sample.
    init : None, "prior", codes, a path, or images
        First codes, passed to ``optimizer.initialize`` (see :func:`initial_codes`);
        ``None`` lets the optimizer start on its own.
    callback : callable(generation, codes, scores, clean) or None
        Called after each committed generation (the notebook dashboard uses it); returning
        ``False`` stops the run cleanly.

    Returns
    -------
    Run
    """
    if not isinstance(budget, (int, np.integer)) or budget < 1:
        raise ValueError(f"budget must be a positive number of evaluations, got {budget!r}")
    if optimizer.dim != generator.dim:
        raise ValueError(f"optimizer dim {optimizer.dim} does not match generator {generator.name!r} "
                         f"dim {generator.dim}")
    out = Path(out)
    meta_path = out / "meta.json"
    ck_path = out / "state" / "checkpoint.pt"
    gens = out / "generations"
    config = {"generator": generator.describe(), "unit": unit.describe(), "optimizer": optimizer.config(),
              "budget": int(budget), "seed": seed}

    start_gen, evaluations = 0, 0
    if meta_path.exists():
        if not resume:
            raise RunError(f"{out} already holds a run; pass resume=True to continue it, or choose another folder")
        meta = json.loads(meta_path.read_text())
        for key in ("generator", "unit", "optimizer"):
            if json.loads(json.dumps(config[key], default=json_default)) != meta.get(key):
                raise RunError(f"cannot resume {out}: its {key} was {meta.get(key)} but this call has "
                               f"{config[key]}")
        if ck_path.exists():
            ck = torch.load(ck_path, map_location="cpu", weights_only=True)
            optimizer.load_state_dict(ck["optimizer"])
            unit.load_state_dict(ck["unit"])
            start_gen, evaluations = int(ck["generation"]) + 1, int(ck["evaluations"])
        elif init is not None:  # killed before the first commit: start exactly as the first call did
            codes0, _ = initial_codes(generator, init, n=20, seed=seed)
            optimizer.initialize(codes0.to(optimizer.device))
        for f in gens.glob("gen_*.npz"):  # written after the last checkpoint: redo them
            if int(f.stem.split("_")[1]) >= start_gen:
                f.unlink()
        meta["budget"] = int(budget)
        meta["status"] = "running"
        meta.pop("error", None)
    else:
        if resume and out.exists() and any(out.iterdir()):
            raise RunError(f"cannot resume {out}: it has no meta.json")
        init_desc = None
        if init is not None:
            codes0, init_desc = initial_codes(generator, init, n=20, seed=seed)
            optimizer.initialize(codes0.to(optimizer.device))
        meta = {"format": FORMAT, **config, "init": init_desc, "versions": versions(),
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "status": "running"}
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RunError(f"cannot create the run folder {out}: {e}") from e
    atomic_write_json(meta_path, meta)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=int(budget), initial=min(evaluations, int(budget)), unit="img",
                   desc=f"evolve {optimizer.name}")
    g = start_gen
    try:
        while evaluations < budget:
            t0 = time.perf_counter()
            codes = optimizer.ask()
            try:
                images, scores, clean = score_codes(generator, unit, codes, batch_size)
            except Exception as e:
                _save_failed(out, g, codes, None, None)
                raise RunError(f"the unit failed in generation {g} ({type(e).__name__}: {e}); generations "
                               f"0..{g - 1} are on disk in {gens}") from e
            try:
                optimizer.tell(codes, scores)
            except ValueError as e:
                _save_failed(out, g, codes, scores, clean)
                raise RunError(f"generation {g} could not be used ({e}); its codes and scores are in "
                               f"{out / 'failed'}, generations 0..{g - 1} in {gens}") from e
            evaluations += int(codes.shape[0])
            wall = time.perf_counter() - t0
            atomic_save_npz(generation_path(gens, g), codes=codes.detach().float().cpu().numpy(),
                            scores=scores.numpy(), clean_scores=clean.numpy(), wall_time=np.float64(wall),
                            time=np.float64(time.time()), evaluations=np.int64(evaluations))
            if save_images:
                save_png(out / "best" / f"gen_{g:06d}.png", images[int(torch.nan_to_num(scores, -math.inf).argmax())])
            # the csv row goes before the checkpoint that commits the generation (see the module docstring)
            append_scores_csv(out / "scores.csv", g, evaluations, scores, clean, wall)
            buf = io.BytesIO()
            torch.save({"generation": g, "evaluations": evaluations, "optimizer": optimizer.state_dict(),
                        "unit": unit.state_dict()}, buf)
            atomic_write_bytes(ck_path, buf.getvalue())
            if bar is not None:
                if evaluations > bar.total:  # the last generation overshoots: tqdm would show "306/?"
                    bar.total = evaluations
                bar.update(int(codes.shape[0]))
                bar.set_postfix(best=f"{float(scores.max()):.3g}")
            g += 1
            if callback is not None and callback(g - 1, codes, scores, clean) is False:
                break
    except BaseException as e:
        meta["status"] = "failed" if not isinstance(e, KeyboardInterrupt) else "interrupted"
        meta["error"] = f"{type(e).__name__}: {e}"
        try:
            atomic_write_json(meta_path, meta)
        except OSError:
            pass  # the original error matters more; the generations are already on disk
        raise
    finally:
        if bar is not None:
            bar.close()
    meta["status"] = "complete" if evaluations >= budget else "stopped"
    meta["evaluations"] = evaluations
    atomic_write_json(meta_path, meta)
    return Run.load(out)


def _save_failed(out: Path, g: int, codes: torch.Tensor, scores, clean) -> None:
    arrays = {"codes": codes.detach().float().cpu().numpy()}
    if scores is not None:
        arrays["scores"] = scores.numpy()
        arrays["clean_scores"] = clean.numpy()
    atomic_save_npz(generation_path(out / "failed", g), **arrays)


def append_scores_csv(path: Path, g: int, evaluations: int, scores: torch.Tensor, clean: torch.Tensor, wall: float) -> None:
    """Add generation ``g``'s row to ``scores.csv``, dropping rows of generations >= g (redone ones)."""
    rows = []
    if path.exists():
        with open(path, newline="") as f:
            rows = [r for r in csv.reader(f)][1:]
        rows = [r for r in rows if int(r[0]) < g]  # drop rows of redone generations
    finite = scores[torch.isfinite(scores)]
    rows.append([g, evaluations, f"{float(finite.max()) if finite.numel() else float('nan'):.6g}",
                 f"{float(finite.mean()) if finite.numel() else float('nan'):.6g}",
                 f"{float(torch.nan_to_num(clean, nan=-math.inf).max()) if not torch.isnan(clean).all() else float('nan'):.6g}",
                 f"{wall:.4f}"])
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["generation", "evaluations", "best_score", "mean_score", "best_clean_score", "wall_time_s"])
    w.writerows(rows)
    atomic_write_bytes(path, buf.getvalue().encode())
