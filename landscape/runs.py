"""The run loop: :func:`evolve` drives an optimizer against a scorer through a generator.

There is one loop. A simulated unit (a :class:`~landscape.units.Unit`, wrapped in a
:class:`~landscape.scorer.UnitScorer`) and a live recording rig
(:class:`landscape.live.rig.RigScorer`, used by :func:`landscape.live.run_experiment`) are both
*scorers* on it (:mod:`landscape.scorer`); the run folder and its format (``landscape-run/1``),
resume and status are :class:`landscape.record.RunRecord`'s job (schema in :mod:`landscape.record`).
``Run``, ``RunError`` and ``FORMAT`` are importable from here as before.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from .generators import Generator
from .optim.base import Optimizer
from .record import FORMAT, Run, RunError, RunRecord
from .scorer import Scorer, as_scorer

__all__ = ["evolve", "initial_codes", "Run", "RunError", "FORMAT"]

#: prior samples drawn for ``init="prior"``
N_PRIOR_INIT = 20


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
        return _invert(generator, t, steps=inversion_steps, seed=seed), \
            {"type": "inverted_images", "n": int(t.shape[0]), "steps": inversion_steps}
    return generator.check_codes(t), {"type": "codes", "n": int(t.shape[0])}


def _invert(generator: Generator, images: torch.Tensor, steps: int, seed: int | None, lr: float = 0.05
            ) -> torch.Tensor:
    """Codes whose images match ``images`` (m, 3, H, W) in pixel MSE: :class:`geometry.inversion.Inversion`
    (Adam) from prior samples, the images resized to the generator's output first."""
    from geometry.inversion import Inversion

    dev = generator.device
    target = torch.nn.functional.interpolate(images.to(dev).float(), size=(generator.image_size,) * 2,
                                             mode="bilinear", align_corners=False, antialias=True)
    start = generator.sample(target.shape[0], seed=seed, device=dev)
    inv = Inversion(distance="mse", n_steps=steps, lr=lr * max(generator.prior_scale, 1e-3))
    return inv.fit(generator, target, init=start).codes_


# --------------------------------------------------------------------------------------
# evolve: the one loop
# --------------------------------------------------------------------------------------
def evolve(generator: Generator, scorer: Any, optimizer: Optimizer, budget: int, out: str | os.PathLike,
           seed: int | None = None, resume: bool = False, init: Any = None, progress: bool = True,
           batch_size: int | None = None, save_images: bool = True,
           callback: Callable[[int, torch.Tensor, torch.Tensor, Any], Any] | None = None) -> Run:
    """Evolve codes that drive ``scorer``, writing every generation to ``out`` as it completes.

    Parameters
    ----------
    generator : Generator
    scorer : Unit or Scorer
        A unit (measured through :mod:`landscape.units.measure`, its noise state checkpointed)
        or a :class:`~landscape.scorer.Scorer` such as a live rig's.
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
    batch_size : int or None
        Images per forward pass of the generator.
    save_images : bool
        Write each generation's best image to ``best/``.
    callback : callable(generation, codes, scores, clean) or None
        Called after each committed generation (the notebook dashboard uses it); returning
        ``False`` stops the run cleanly (status "stopped"). A scorer may pass something else
        than the clean scores as the fourth argument (a live rig: its per-image ``info``).
        The run also stops when ``optimizer.stop()`` names a criterion it met (set with
        ``optimizer.stop_when(...)``); ``meta.json`` then records them under ``stop``.

    Returns
    -------
    Run
    """
    if not isinstance(budget, (int, np.integer)) or budget < 1:
        raise ValueError(f"budget must be a positive number of evaluations, got {budget!r}")
    if optimizer.dim != generator.dim:
        raise ValueError(f"optimizer dim {optimizer.dim} does not match generator {generator.name!r} "
                         f"dim {generator.dim}")
    scorer = as_scorer(scorer)
    record = RunRecord(out, write_error=scorer.write_error, resume_hint=scorer.resume_hint,
                       new_folder_reason=scorer.new_folder_reason, is_fresh=scorer.is_fresh)
    with record.lock():
        try:
            _open(record, generator, scorer, optimizer, int(budget), seed, resume, init, progress, batch_size)
        except BaseException:
            scorer.close()
            raise
        return _loop(record, generator, scorer, optimizer, int(budget), progress, batch_size, save_images, callback)


def _open(record: RunRecord, generator: Generator, scorer: Scorer, optimizer: Optimizer, budget: int,
          seed: int | None, resume: bool, init: Any, progress: bool = True, batch_size: int | None = None) -> None:
    """Start or resume the record; restore the optimizer and scorer; write ``meta.json``."""
    record.open(resume)
    scorer.open(record)
    config = {"generator": generator.describe(), "unit": scorer.describe(), "optimizer": optimizer.config(),
              "budget": budget, "seed": seed}
    init_desc = None
    ck = None
    if record.resuming:
        record.check_config(config)
        ck = record.restore()
    if record.replay_generations and not scorer.replayable:
        raise RunError(f"cannot resume {record.out}: {record.replay_reason}; {scorer.replay_refusal}. Nothing was "
                       "changed")
    if ck is not None:
        optimizer.load_state_dict(ck["optimizer"])
        scorer.load_state_dict(ck)
    elif record.replay_generations:  # checkpoint lost: start as the first call did, then replay
        first = _replay_init(record, init)
        if first is not None:
            codes0, _ = initial_codes(generator, first, n=N_PRIOR_INIT, seed=record.meta.get("seed"))
            optimizer.initialize(codes0.to(optimizer.device))
    elif init is not None:  # a new run, or one killed before its first commit: start as the first call did
        codes0, init_desc = initial_codes(generator, init, n=N_PRIOR_INIT, seed=seed)
        optimizer.initialize(codes0.to(optimizer.device))
    if record.replay_generations:
        _replay(record, generator, scorer, optimizer, progress, batch_size)
    record.begin(config, init_desc)
    scorer.start(record)
    record.write_meta()


def _replay_init(record: RunRecord, init: Any) -> Any:
    """The first codes of a run being replayed from its start: the call's ``init``, else what meta.json recorded."""
    if init is not None:
        return init
    desc = record.meta.get("init")
    if desc is None:
        return None
    if desc.get("type") == "prior":
        return "prior"
    if desc.get("type") in ("run", "file"):
        return desc["path"]
    raise RunError(f"cannot resume {record.out}: {record.replay_reason}, and rebuilding its state needs the initial "
                   f"codes it started from ({desc.get('type')}), which meta.json does not hold; pass the same init "
                   "again (command line: --init) to replay it")


def _replay(record: RunRecord, generator: Generator, scorer: Scorer, optimizer: Optimizer, progress: bool = True,
            batch_size: int | None = None) -> None:
    """Rebuild the optimizer's and scorer's state by replaying committed generations (their checkpoint is lost).

    Each generation: the optimizer must ask exactly the recorded codes (it is deterministic given
    its configuration, seed and initial codes), the scorer scores their images again (advancing
    its noise generator as it did) and must give the recorded scores (within float rounding),
    and the optimizer is told the recorded scores. Any difference refuses the resume, with
    nothing changed on disk.
    """
    gens = record.replay_generations
    bar = None
    if progress and len(gens) > 1:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(gens), unit="gen", desc="replaying committed generations", leave=False)
    try:
        for g in gens:
            rec = record.read_generation(g)
            codes = optimizer.ask()
            asked = codes.detach().float().cpu().numpy()
            if asked.shape != rec["codes"].shape or not np.array_equal(asked, rec["codes"]):
                diff = (float(np.abs(asked - rec["codes"]).max()) if asked.shape == rec["codes"].shape
                        else f"shape {asked.shape} vs {rec['codes'].shape}")
                raise RunError(f"cannot resume {record.out}: {record.replay_reason}, and replaying generation {g} the "
                               f"optimizer asks for other codes than the recorded ones (max difference {diff}): the "
                               "run was not made by this optimizer, seed and initial codes, so its state cannot be "
                               "rebuilt. Nothing was changed; start a new run with init=<this run folder>")
            images = generator.render(codes.detach(), batch_size)
            scored = scorer.score(codes, images, g)
            if not np.allclose(scored.scores.numpy(), rec["scores"], rtol=1e-4, atol=1e-6, equal_nan=True):
                raise RunError(f"cannot resume {record.out}: {record.replay_reason}, and replaying generation {g} the "
                               "unit gives other scores than the recorded ones (a different unit, noise seed or "
                               "model weights), so its state cannot be rebuilt. Nothing was changed")
            optimizer.tell(codes, torch.from_numpy(rec["scores"]))
            if bar is not None:
                bar.update(1)
        record.replayed()
    finally:
        if bar is not None:
            bar.close()


def _loop(record: RunRecord, generator: Generator, scorer: Scorer, optimizer: Optimizer, budget: int,
          progress: bool, batch_size: int | None, save_images: bool, callback) -> Run:
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=budget, initial=min(record.evaluations, budget), unit="img",
                   desc=f"{scorer.label} {optimizer.name}")
    record.bar = bar
    g, evaluations = record.start_generation, record.evaluations
    try:
        while evaluations < budget:
            t0 = time.perf_counter()
            codes = optimizer.ask()
            try:
                images = generator.render(codes.detach(), batch_size)
                scored = scorer.score(codes, images, g)
            except RunError:
                raise  # the scorer's own error already says what was kept and how to go on
            except Exception as e:
                record.save_failed(g, codes)
                raise RunError(f"the unit failed in generation {g} ({type(e).__name__}: {e}); generations "
                               f"0..{g - 1} are on disk in {record.generations}") from e
            try:
                optimizer.tell(codes, scored.scores)
            except ValueError as e:
                record.save_failed(g, codes, scored.scores, scored.clean)
                raise RunError(f"generation {g} could not be used ({e}); its codes and scores are in "
                               f"{record.out / 'failed'}, generations 0..{g - 1} in {record.generations}") from e
            evaluations += int(codes.shape[0])
            record.commit(g, codes, scored.scores, scored.clean, time.perf_counter() - t0, evaluations,
                          {"optimizer": optimizer.state_dict(), **scorer.state_dict()},
                          images=images if save_images else None, extra=scored.extra)
            if bar is not None:
                if evaluations > bar.total:  # the last generation overshoots: tqdm would show "306/?"
                    bar.total = evaluations
                bar.update(int(codes.shape[0]))
                bar.set_postfix(**scorer.progress_postfix(scored))
            g += 1
            if callback is not None and callback(g - 1, codes, scored.scores, scorer.callback_value(scored)) is False:
                break
            reasons = optimizer.stop()
            if reasons:  # the optimizer's own termination criteria (pycma's es.stop())
                record.meta["stop"] = reasons
                break
        record.close("complete" if evaluations >= budget else "stopped", evaluations=evaluations)
        scorer.finish()
    except BaseException as e:
        record.close("interrupted" if isinstance(e, KeyboardInterrupt) else "failed", error=e)
        raise
    finally:
        if bar is not None:
            bar.close()
        scorer.close()
    return Run.load(record.out)
