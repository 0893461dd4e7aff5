"""The run loop: :func:`evolve` drives an optimizer against a scorer through a generator.

There is one loop. A simulated unit (a :class:`~landscape.units.Unit`, wrapped in a
:class:`~landscape.scorer.UnitScorer`) and a live recording rig
(:class:`landscape.live.rig.RigScorer`, used by :func:`landscape.live.run_experiment`) are both
*scorers* on it (:mod:`landscape.scorer`); the run folder and its format (``landscape-run/1``),
resume and status are :class:`landscape.record.RunRecord`'s job (schema in :mod:`landscape.record`).

The loop advances any number of independent runs together (:func:`evolve_many`); :func:`evolve`
is its one-run case. Per generation it asks every run's optimizer, renders all their codes in
one generator call, scores all runs whose units read the same layer of one network in one
truncated forward pass (:func:`landscape.units.measure.measure_images_many`), and tells, commits
and checkpoints each run in its own folder. Each run keeps its own optimizer, noise generator,
budget, callback and resume, so a run's folder is the same whether it ran alone or beside others
(bit for bit on CPU, wall times aside: :data:`landscape.units.measure.MIN_PASS_ROWS`).
``Run``, ``RunError`` and ``FORMAT`` are importable from here as before.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from .generators import Generator
from .optim.base import Optimizer
from .record import FORMAT, Run, RunError, RunRecord
from .scorer import Scored, Scorer, UnitScorer, as_scorer
from .units.measure import forward_in_chunks, pass_key

__all__ = ["evolve", "evolve_many", "RunSpec", "initial_codes", "Run", "RunError", "FORMAT"]

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
@dataclass
class RunSpec:
    """One run of :func:`evolve_many`: the arguments of :func:`evolve` that belong to a run.

    Attributes
    ----------
    scorer : Unit or Scorer
    optimizer : Optimizer
    budget : int
    out : path of the run folder
    seed, resume, init, callback : as in :func:`evolve`
    """

    scorer: Any
    optimizer: Optimizer
    budget: int
    out: str | os.PathLike
    seed: int | None = None
    resume: bool = False
    init: Any = None
    callback: Callable[[int, torch.Tensor, torch.Tensor, Any], Any] | None = None


def evolve(generator: Generator, scorer: Any, optimizer: Optimizer, budget: int, out: str | os.PathLike,
           seed: int | None = None, resume: bool = False, init: Any = None, progress: bool = True,
           batch_size: int | None = None, save_images: bool = True,
           callback: Callable[[int, torch.Tensor, torch.Tensor, Any], Any] | None = None) -> Run:
    """Evolve codes that drive ``scorer``, writing every generation to ``out`` as it completes.

    The one-run case of :func:`evolve_many`.

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
    result = evolve_many(generator, [RunSpec(scorer, optimizer, budget, out, seed, resume, init, callback)],
                         progress=progress, batch_size=batch_size, save_images=save_images)[0]
    if isinstance(result, BaseException):
        raise result
    return result


def evolve_many(generator: Generator, runs: Sequence[RunSpec], *, progress: bool = True,
                batch_size: int | None = None, save_images: bool = True) -> list[Run | Exception]:
    """Advance several independent runs together, sharing each generation's forward passes.

    Per generation every unfinished run's optimizer is asked for codes; all codes are rendered
    by one generator call, and the units that read the same layer of the same network are
    scored by one truncated network pass
    (:func:`landscape.units.measure.measure_images_many`); other scorers (a live rig, a model
    neuron) score their own images. Then each run is told, committed and checkpointed in its
    own folder as :func:`evolve` does: each keeps its optimizer state, its noise generator
    (drawn in the same order as alone), its budget (runs finish independently), callback,
    stopping criteria and exact resume. A run's folder equals the folder of the same run made
    alone by :func:`evolve`, wall times aside (each run records its own asking and telling plus
    its share, by images, of the shared rendering and scoring).

    Parameters
    ----------
    generator : Generator
        Shared by all runs; every optimizer's ``dim`` must equal its ``dim``.
    runs : sequence of RunSpec
        Their folders must differ.
    progress : bool
        One progress bar over the images of all runs.
    batch_size : int or None
        Images per forward pass of the generator (its ``max_batch`` when None).
    save_images : bool
        Write each generation's best image to each run's ``best/``.

    Returns
    -------
    list, one entry per run: its :class:`~landscape.record.Run`, or the exception that ended it.
        A run that fails (its unit raises, its scores cannot be used, its folder cannot be
        resumed) is recorded in its own folder exactly as :func:`evolve` records it, and the
        other runs go on. An interrupt (``KeyboardInterrupt``) marks every unfinished run
        "interrupted" and is raised.
    """
    runs = list(runs)
    for spec in runs:
        if not isinstance(spec, RunSpec):
            raise TypeError(f"runs must hold RunSpec objects, got {type(spec).__name__}")
        if not isinstance(spec.budget, (int, np.integer)) or isinstance(spec.budget, bool) or spec.budget < 1:
            raise ValueError(f"budget must be a positive number of evaluations, got {spec.budget!r}")
        if spec.optimizer.dim != generator.dim:
            raise ValueError(f"optimizer dim {spec.optimizer.dim} does not match generator {generator.name!r} "
                             f"dim {generator.dim}")
    folders = [Path(spec.out).resolve() for spec in runs]
    if len(set(folders)) != len(folders):
        raise ValueError(f"two runs share a folder: {sorted({str(f) for f in folders if folders.count(f) > 1})}; "
                         "give each run its own out")
    results: list[Run | Exception | None] = [None] * len(runs)
    lanes: list[_Lane] = []
    try:
        for i, spec in enumerate(runs):
            lane = _Lane(i, spec)
            try:
                lane.open(generator, progress, batch_size)
            except Exception as e:  # this run cannot start; the others can
                results[i] = e
                continue
            lanes.append(lane)
    except BaseException as e:  # an interrupt while opening: the runs opened so far end as a loop interrupt ends them
        for lane in lanes:
            lane.abort(e)
        raise
    _loop(lanes, generator, progress, batch_size, save_images, results)
    return results  # type: ignore[return-value]


class _Lane:
    """One run inside the loop: its record, scorer, optimizer and counters."""

    def __init__(self, index: int, spec: RunSpec) -> None:
        self.index, self.spec = index, spec
        self.optimizer, self.budget, self.callback = spec.optimizer, int(spec.budget), spec.callback
        self.scorer = as_scorer(spec.scorer)
        s = self.scorer
        self.record = RunRecord(spec.out, write_error=s.write_error, resume_hint=s.resume_hint,
                                new_folder_reason=s.new_folder_reason, is_fresh=s.is_fresh)
        self.held = contextlib.ExitStack()  # the record's lock, from open to the run's end
        self.g = self.evaluations = 0

    def open(self, generator: Generator, progress: bool = True, batch_size: int | None = None) -> None:
        try:
            self.held.enter_context(self.record.lock())
            _open(self.record, generator, self.scorer, self.optimizer, self.budget, self.spec.seed,
                  self.spec.resume, self.spec.init, progress, batch_size)
        except BaseException:
            self.scorer.close()
            self.held.close()
            raise
        self.g, self.evaluations = self.record.start_generation, self.record.evaluations

    @property
    def running(self) -> bool:
        return self.evaluations < self.budget

    def end(self, status: str) -> None:
        """Close a run that ended well (an error here is the run's failure: :meth:`abort` follows)."""
        self.record.close(status, evaluations=self.evaluations)
        self.scorer.finish()
        self.scorer.close()
        self.held.close()

    def abort(self, error: BaseException) -> None:
        """Close a run that failed or was interrupted, recording ``error`` in its folder."""
        try:
            self.record.close("interrupted" if isinstance(error, KeyboardInterrupt) else "failed", error=error)
        finally:
            try:
                self.scorer.close()
            finally:
                self.held.close()


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


def _render(generator: Generator, codes: torch.Tensor, batch_size: int | None) -> torch.Tensor:
    """All codes' images in chunks, padded as :func:`~landscape.units.measure.forward_in_chunks` pads
    short ones, so an image does not depend on which other codes share its generation (any other
    object with the generator interface renders its own way: ``render(codes, batch_size)``)."""
    if not isinstance(generator, Generator):
        return generator.render(codes, batch_size)
    with torch.no_grad():
        return forward_in_chunks(generator, generator.check_codes(codes), int(batch_size or generator.max_batch))


def _shares_passes(scorer: Scorer) -> bool:
    """Whether the scorer is a unit that can be scored in a pass shared with other units."""
    return isinstance(scorer, UnitScorer) and bool(pass_key(scorer.unit))


def _score_alone(scorer: Scorer, codes: torch.Tensor, images: torch.Tensor, g: int) -> Scored:
    """One run's scores of its own images, computed as a shared pass computes them (padded alike), so
    a run alone, a run beside others and a replayed run measure the same way."""
    if _shares_passes(scorer):
        return UnitScorer.score_many([scorer], [images])[0]
    return scorer.score(codes, images, g)


def _shared_step(lanes: list[_Lane], codes: list[torch.Tensor], batch_size: int | None, generator: Generator
                 ) -> list[tuple[torch.Tensor, Scored] | Exception]:
    """Render and score every lane's codes, sharing passes; a lane whose step failed gets its exception.

    When a shared pass raises, the step is redone lane by lane (the scorers' random state put
    back first), so the error lands in the run that caused it and the others go on.
    """
    # units that share a forward pass are scored together; every other scorer on its own (once: a
    # unit that fails is not asked again)
    units = [k for k, lane in enumerate(lanes) if _shares_passes(lane.scorer)]
    if len(lanes) > 1:
        saved = {k: lanes[k].scorer.state_dict() for k in units}
        try:
            images = _render(generator, torch.cat([c.detach() for c in codes]), batch_size)
            per_lane = list(torch.split(images, [int(c.shape[0]) for c in codes]))
            scored: dict[int, Scored] = dict(zip(units, UnitScorer.score_many(
                [lanes[k].scorer for k in units], [per_lane[k] for k in units]))) if units else {}
        except Exception:
            for k in units:
                lanes[k].scorer.load_state_dict(saved[k])
        else:
            out: list = []
            for k, lane in enumerate(lanes):
                try:
                    s = scored[k] if k in scored else lane.scorer.score(codes[k], per_lane[k], lane.g)
                    out.append((per_lane[k], s))
                except Exception as e:
                    out.append(e)
            return out
    out = []
    for k, lane in enumerate(lanes):
        try:
            images = _render(generator, codes[k].detach(), batch_size)
            out.append((images, _score_alone(lane.scorer, codes[k], images, lane.g)))
        except Exception as e:
            out.append(e)
    return out


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
            images = _render(generator, codes.detach(), batch_size)
            scored = _score_alone(scorer, codes, images, g)
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


def _loop(lanes: list[_Lane], generator: Generator, progress: bool, batch_size: int | None, save_images: bool,
          results: list) -> None:
    bar = None
    if progress and lanes:
        from tqdm.auto import tqdm

        one = lanes[0]
        bar = tqdm(total=sum(lane.budget for lane in lanes), unit="img",
                   initial=sum(min(lane.evaluations, lane.budget) for lane in lanes),
                   desc=f"{one.scorer.label} {one.optimizer.name}" if len(lanes) == 1 else f"evolve x{len(lanes)}")
    for lane in lanes:
        lane.record.bar = bar
    active = list(lanes)

    def finish(lane: _Lane, status: str | None = None, error: Exception | None = None) -> None:
        active.remove(lane)
        if error is None:
            try:
                lane.end("complete" if not lane.running else status)
            except Exception as e:  # closing failed (a full disk): recorded as a failure of this run
                error = e
            else:
                try:
                    results[lane.index] = Run.load(lane.record.out)
                except Exception as e:
                    results[lane.index] = e
                return
        lane.abort(error)
        results[lane.index] = error

    try:
        for lane in [lane for lane in active if not lane.running]:  # resumed with its budget already spent
            finish(lane, "complete")
        while active:
            t0 = time.perf_counter()
            asked: list[_Lane] = []
            codes: list[torch.Tensor] = []
            own: dict[int, float] = {}  # each run's own seconds: asking and telling
            for lane in list(active):
                t = time.perf_counter()
                try:
                    codes.append(lane.optimizer.ask())
                except Exception as e:
                    finish(lane, error=e)
                    continue
                asked.append(lane)
                own[lane.index] = time.perf_counter() - t
            t_shared = time.perf_counter()
            steps = _shared_step(asked, codes, batch_size, generator)
            shared = time.perf_counter() - t_shared
            n_images = sum(int(c.shape[0]) for c in codes)
            for lane, c, step in zip(asked, codes, steps):
                g = lane.g
                if isinstance(step, Exception):
                    if isinstance(step, RunError):  # the scorer's own error already says what was kept and how to go on
                        finish(lane, error=step)
                        continue
                    try:
                        lane.record.save_failed(g, c)
                        err = RunError(f"the unit failed in generation {g} ({type(step).__name__}: {step}); "
                                       f"generations 0..{g - 1} are on disk in {lane.record.generations}")
                        err.__cause__ = step
                    except Exception as e:
                        err = e
                    finish(lane, error=err)
                    continue
                images, scored = step
                try:
                    t = time.perf_counter()
                    try:
                        lane.optimizer.tell(c, scored.scores)
                    except ValueError as e:
                        lane.record.save_failed(g, c, scored.scores, scored.clean)
                        raise RunError(f"generation {g} could not be used ({e}); its codes and scores are in "
                                       f"{lane.record.out / 'failed'}, generations 0..{g - 1} in "
                                       f"{lane.record.generations}") from e
                    lane.evaluations += int(c.shape[0])
                    wall = own[lane.index] + time.perf_counter() - t + shared * int(c.shape[0]) / n_images
                    lane.record.commit(g, c, scored.scores, scored.clean, wall, lane.evaluations,
                                       {"optimizer": lane.optimizer.state_dict(), **lane.scorer.state_dict()},
                                       images=images if save_images else None, extra=scored.extra)
                    if bar is not None:
                        if sum(x.evaluations for x in lanes) > bar.total:  # overshooting last generations
                            bar.total = sum(max(x.evaluations, x.budget) for x in lanes)
                        bar.update(int(c.shape[0]))
                        if len(lanes) == 1:
                            bar.set_postfix(**lane.scorer.progress_postfix(scored))
                        else:
                            bar.set_postfix(runs=len(active))
                    lane.g = g + 1
                    if lane.callback is not None and \
                            lane.callback(g, c, scored.scores, lane.scorer.callback_value(scored)) is False:
                        finish(lane, "stopped")
                        continue
                    reasons = lane.optimizer.stop()
                    if reasons:  # the optimizer's own termination criteria (pycma's es.stop())
                        lane.record.meta["stop"] = reasons
                        finish(lane, "stopped")
                        continue
                except Exception as e:
                    finish(lane, error=e)
                    continue
                if not lane.running:
                    finish(lane, "complete")
    except BaseException as e:  # an interrupt: every unfinished run says so in its folder
        for lane in list(active):
            active.remove(lane)
            lane.abort(e)
        raise
    finally:
        if bar is not None:
            bar.close()
