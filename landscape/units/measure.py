"""The one way a unit is measured: batches, repetitions, noise.

Every caller that shows images to a unit — the evolution loop, tuning maps, the parametric
stimuli of ``landscape.characterise`` — goes through :func:`measure_images` (or
:func:`measure_codes`, which renders codes first); the run loop measures all its runs' units at
once through :func:`measure_images_many` (one forward pass per network layer, the same rules for
noise, one repetition).

Rules
-----
* **Noise.** A unit is *noisy* when its ``noisy`` attribute is true. A noise wrapper with an
  ``observe(clean)`` method (:mod:`landscape.units.noise`) is measured with **one** clean
  forward pass per image and one noise draw per repetition; any other unit is called once per
  repetition. A noisy unit's clean response is ``unit.clean(images)``; a noise-free unit's
  observed response is already clean.
* **Repetitions** (:func:`resolve_reps`). ``reps=None`` takes 1 for a noise-free unit and the
  caller's noisy default for a noisy one: :data:`NOISY_REPS` names them all (tuning maps 5,
  parametric stimuli 8, evolution 1 — a noise model's own ``reps`` averages presentations
  inside one observation). An explicit ``reps > 1`` for a noise-free unit **raises**: every
  repetition would be identical, so asking for them is a mistake (wrap the unit in a noise
  model, or pass ``reps=None``/1).
* **Batches.** Images go to the unit ``batch_size`` at a time (all at once when None); the
  scores of each call must have one value per image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import torch

#: repetitions per image of a noisy unit when a caller passes ``reps=None``, by caller
NOISY_REPS = {"evolution": 1, "maps": 5, "stimuli": 8}


def unit_device(unit: Any, device: str | torch.device | None = None) -> torch.device:
    """Where to make images for ``unit``: ``device`` if given, else the unit's own device, else CPU."""
    if device is not None:
        return torch.device(device)
    dev = getattr(unit, "device", None)
    return torch.device(dev) if dev is not None else torch.device("cpu")


def is_noisy(unit: Any) -> bool:
    """Whether ``unit`` adds measurement noise (its ``noisy`` attribute)."""
    return bool(getattr(unit, "noisy", False))


def resolve_reps(unit: Any, reps: int | None, noisy_default: int) -> int:
    """Repetitions to take of each image (the rule in the module docstring).

    Parameters
    ----------
    unit : the unit to be measured
    reps : int or None
        What the caller asked for; None for the default.
    noisy_default : int
        The caller's default for a noisy unit (one of :data:`NOISY_REPS`).
    """
    noisy = is_noisy(unit)
    if reps is None:
        return int(noisy_default) if noisy else 1
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 1:
        raise ValueError(f"reps must be a positive integer or None, got {reps!r}")
    if reps > 1 and not noisy:
        raise ValueError(f"reps={reps} asked of a noise-free unit ({unit!r}): every repetition would be "
                         "identical; use reps=None or 1, or wrap the unit in a noise model (PoissonNoise, "
                         "GaussianNoise)")
    return int(reps)


@dataclass
class Measurement:
    """Responses to ``N`` images.

    Attributes
    ----------
    trials : (reps, N) float64 array
        Every observed response (one row for a single repetition).
    clean : (N,) float64 array or None
        Noise-free responses of a noisy unit; None for a noise-free unit, whose observed
        responses are already clean.
    noisy : bool
        Whether the unit was noisy.
    """

    trials: np.ndarray
    clean: np.ndarray | None
    noisy: bool

    @property
    def mean(self) -> np.ndarray:
        """(N,) mean observed response over repetitions."""
        return self.trials.mean(axis=0)

    @property
    def sem(self) -> np.ndarray | None:
        """(N,) standard error of the mean over repetitions, or None with fewer than two."""
        if self.trials.shape[0] < 2:
            return None
        return self.trials.std(axis=0, ddof=1) / np.sqrt(self.trials.shape[0])

    @property
    def clean_or_observed(self) -> np.ndarray:
        """(N,) the clean responses, or the observed mean of a noise-free unit."""
        return self.clean if self.clean is not None else self.mean


def _scores(out: Any, n: int) -> np.ndarray:
    s = out.detach().to("cpu", torch.float64).numpy() if torch.is_tensor(out) else np.asarray(out, np.float64)
    if s.size != n or s.ndim > 1 and s.shape != (n, 1):
        raise ValueError(f"the unit returned scores of shape {s.shape} for {n} images; expected ({n},)")
    return s.reshape(n)


@torch.no_grad()
def measure_images(unit: Callable[[torch.Tensor], Any], images: torch.Tensor, reps: int = 1,
                   batch_size: int | None = None, clean_only: bool = False, progress: bool = False,
                   desc: str = "stimuli") -> Measurement:
    """Show ``images`` to ``unit`` ``reps`` times each.

    Parameters
    ----------
    unit : Unit or callable
        Images ``(B, 3, H, W)`` to scores ``(B,)``; a live rig can stand here.
    images : (N, 3, H, W) tensor in [0, 1]
    reps : int
        Repetitions (already resolved: see :func:`resolve_reps`).
    batch_size : int or None
        Images per call of the unit; None sends them all at once.
    clean_only : bool
        Measure the noise-free response only (``unit.clean`` of a noisy unit; no noise is drawn,
        so the unit's random state is untouched); the result is then noise-free, with one trial.
    progress : bool
        Show a tqdm bar over images.

    Returns
    -------
    Measurement
    """
    if not torch.is_tensor(images) or images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be a tensor of shape (N, 3, H, W), got "
                         f"{tuple(images.shape) if hasattr(images, 'shape') else type(images).__name__}")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be >= 1 or None, got {batch_size}")
    if clean_only:
        unit, reps = (unit.clean if is_noisy(unit) else unit), 1
    n = images.shape[0]
    bs = n if batch_size is None else int(batch_size)
    noisy = is_noisy(unit)
    trials = np.empty((reps, n))
    clean = np.empty(n) if noisy else None
    starts = range(0, n, max(bs, 1))
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc=desc, unit="batch")
    for start in starts:
        batch = images[start:start + bs]
        stop = start + batch.shape[0]
        if noisy and hasattr(unit, "observe"):
            # noise wrappers draw noise around one clean pass: no repeated forward passes
            a = unit.clean(batch)
            clean[start:stop] = _scores(a, stop - start)
            for r in range(reps):
                trials[r, start:stop] = _scores(unit.observe(a), stop - start)
        else:
            for r in range(reps):
                trials[r, start:stop] = _scores(unit(batch), stop - start)
            if noisy:
                clean[start:stop] = _scores(unit.clean(batch), stop - start)
    return Measurement(trials=trials, clean=clean, noisy=noisy)


@torch.no_grad()
def measure_codes(generator: Any, unit: Callable[[torch.Tensor], Any], codes: Any, *, reps: int = 1,
                  batch_size: int | None = None, progress: bool = False, desc: str = "measuring",
                  clean_only: bool = False) -> Measurement:
    """Render ``codes`` in chunks and measure them (each chunk rendered once, shown ``reps`` times).

    Parameters
    ----------
    generator : landscape.generators.Generator
        Images are rendered on its device; the unit follows the images.
    unit : Unit or callable
    codes : (N, d) array or tensor
    reps : int
        Repetitions (already resolved: see :func:`resolve_reps`).
    batch_size : int or None
        Images per forward pass; defaults to the generator's ``max_batch`` (64 without one).
    progress : bool
        Show a tqdm bar over images.
    clean_only : bool
        Noise-free responses only (see :func:`measure_images`).

    Returns
    -------
    Measurement
    """
    from tqdm.auto import tqdm

    codes_t = torch.as_tensor(codes.detach() if torch.is_tensor(codes) else np.asarray(codes), dtype=torch.float32)
    if codes_t.ndim != 2 or codes_t.shape[0] == 0:
        raise ValueError(f"codes must be a non-empty (N, d) array, got shape {tuple(codes_t.shape)}")
    codes_t = codes_t.to(generator.device)
    bs = int(batch_size or getattr(generator, "max_batch", 64))
    if bs < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    parts = []
    with tqdm(total=codes_t.shape[0], desc=desc, unit="img", disable=not progress, leave=False) as bar:
        for start in range(0, codes_t.shape[0], bs):
            images = generator(codes_t[start:start + bs])
            parts.append(measure_images(unit, images, reps=reps, clean_only=clean_only))
            bar.update(images.shape[0])
    noisy = parts[0].noisy
    return Measurement(trials=np.concatenate([p.trials for p in parts], axis=1),
                       clean=np.concatenate([p.clean for p in parts]) if noisy else None, noisy=noisy)


# --------------------------------------------------------------------------------------
# many units at once: the batched evolution's measurement
# --------------------------------------------------------------------------------------
#: the fewest rows a forward pass of :func:`forward_in_chunks` gets: shorter chunks are padded up to it.
#: On CPU, oneDNN/MKL pick other kernels for very small batches (a Linear layer's rows differ from
#: the same rows in a batch of 16+ for batches of 1-8; a ResNet-20 convolution's for a batch of 1),
#: so a sample's output depends on how many others share its pass; from 16 rows on it did not in
#: any batch size tried (benchmarks/README.md, "Batched evolution"), which is what lets a batched
#: run equal the same run alone bit for bit.
MIN_PASS_ROWS = 16


def forward_in_chunks(fn: Callable[[torch.Tensor], Any], x: torch.Tensor, chunk: int,
                      min_rows: int = MIN_PASS_ROWS) -> Any:
    """``fn`` over ``x`` in chunks of ``chunk`` rows, a chunk shorter than ``min_rows`` padded
    (its last row repeated) and the padding's outputs dropped.

    Parameters
    ----------
    fn : callable (B, ...) tensor -> (B, ...) tensor, or a list of them
    x : (N, ...) tensor
    chunk : int
        Rows per call (the memory limit).

    Returns
    -------
    (N, ...) tensor, or a list of them when ``fn`` returns a list
    """
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    parts = []
    for start in range(0, x.shape[0], chunk):
        part = x[start:start + chunk]
        n = part.shape[0]
        if n < min_rows:
            part = torch.cat([part, part[-1:].expand(min_rows - n, *part.shape[1:])])
        out = fn(part)
        parts.append([o[:n] for o in out] if isinstance(out, (list, tuple)) else out[:n])
    if isinstance(parts[0], list):
        return [torch.cat(p) for p in zip(*parts)]
    return torch.cat(parts)


def shared_readout(unit: Any) -> tuple[Any, Any] | None:
    """``(cnn_unit, noise)`` when ``unit`` can share a forward pass with others, else None.

    A :class:`~landscape.units.CNNUnit` shares (``noise`` None), and so does one inside a
    noise wrapper that draws around a clean response (``observe``; ``noise`` is the wrapper).
    """
    from .cnn import CNNUnit
    from .noise import _NoisyUnit

    if type(unit) is CNNUnit:
        return unit, None
    # only a wrapper whose clean response is its inner unit's: a subclass that changes clean()
    # must be asked itself
    if isinstance(unit, _NoisyUnit) and type(unit).clean is _NoisyUnit.clean and type(unit.unit) is CNNUnit:
        return unit.unit, unit
    return None


def pass_key(unit: Any) -> tuple | None:
    """Units with equal keys are measured by one forward pass in :func:`measure_images_many`:
    the same network object, layer and device. None: measured alone."""
    r = shared_readout(unit)
    if r is None:
        return None
    cnn = r[0]
    return (id(cnn.model), cnn.layer, str(cnn.device))


@torch.no_grad()
def measure_images_many(units: Sequence[Any], images: Sequence[torch.Tensor]) -> list[Measurement]:
    """One observation of each unit on its own images, as :func:`measure_images` with ``reps=1``,
    with one forward pass for all units that read the same layer of the same network.

    Units with one :func:`pass_key` (CNN units of one network object, layer and device, bare or
    in a noise wrapper) have their images concatenated and sent through the network once, in
    chunks of the smallest ``batch_size`` among them (:func:`forward_in_chunks`, stopped after
    the layer); each unit reads its channel and position from its own rows, then a noisy one
    draws its noise from its own generator, in the order of ``units``, exactly as it would
    alone. Any other unit is measured by :func:`measure_images`. The clean responses of a CNN
    unit equal those of the same unit measured alone here bit for bit on CPU (see
    :data:`MIN_PASS_ROWS`).

    Only layers with equal keys share: images differ from run to run, so one pass for units of
    two layers would send the shallower layer's images through the deeper layers for nothing.

    Parameters
    ----------
    units : sequence of units
    images : sequence of (N_i, 3, H, W) tensors in [0, 1], one per unit

    Returns
    -------
    list of Measurement, one per unit (``trials`` of shape (1, N_i))
    """
    from .cnn import layer_outputs

    if len(units) != len(images):
        raise ValueError(f"{len(units)} units but {len(images)} image batches; give one batch per unit")
    groups: dict[tuple, list[int]] = {}
    out: list[Measurement | None] = [None] * len(units)
    for i, u in enumerate(units):
        key = pass_key(u)
        if key is None:
            out[i] = measure_images(u, images[i], reps=1)
        else:
            groups.setdefault(key, []).append(i)
    for members in groups.values():
        cnns = [shared_readout(units[i])[0] for i in members]
        model, module = cnns[0].model, cnns[0].module
        batch = torch.cat([images[i].to(cnns[0].device) for i in members])
        acts = forward_in_chunks(lambda x: layer_outputs(model, [module], x)[0], batch,
                                 min(c.batch_size for c in cnns))
        start = 0
        for i, cnn in zip(members, cnns):
            n = images[i].shape[0]
            clean = cnn.read(acts[start:start + n]).to(images[i].device)
            start += n
            noise = shared_readout(units[i])[1]
            if noise is None:
                out[i] = Measurement(trials=_scores(clean, n)[None], clean=None, noisy=False)
            else:
                out[i] = Measurement(trials=_scores(noise.observe(clean), n)[None], clean=_scores(clean, n),
                                     noisy=True)
    return out
