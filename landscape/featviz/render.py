"""Gradient feature visualisation: optimise an image parameterisation to maximise an objective.

Each step: parameters -> images in [0, 1] (:mod:`landscape.featviz.param`) -> random transforms
(:mod:`landscape.featviz.transforms`) -> model with forward hooks -> objective values (B,) ->
Adam step on the parameters. The model's weights are never changed or given gradients.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from landscape.featviz.hooks import record_activations
from landscape.featviz.objectives import Objective, as_objective
from landscape.featviz.param import FourierImage, ImageParam
from landscape.featviz.relu import redirected_relu
from landscape.featviz.transforms import Compose, Transform, default_transforms

#: steps over which an image with identically zero gradient counts as stuck
STUCK_STEPS = 16


def _model_device(model: nn.Module | None) -> torch.device | None:
    if model is None:
        return None
    for t in list(model.parameters()) + list(model.buffers()):
        return t.device
    return None


def evaluate(model: nn.Module | None, objective: Any, images: torch.Tensor,
             batch_size: int = 64) -> torch.Tensor:
    """Objective values of given images, without transforms or gradients.

    Parameters
    ----------
    model : nn.Module or None
        ``None`` only for objectives that read no layer (e.g. ``unit(...)``).
    objective : Objective, Unit or "layer:channel"
    images : (B, 3, H, W) tensor in [0, 1]
    batch_size : int
        Images per forward pass.

    Returns
    -------
    values : (B,) tensor on the images' device
    """
    objective = as_objective(objective)
    _check_model(model, objective)
    device = _model_device(model) or images.device
    out = []
    with torch.no_grad():
        for i in range(0, images.shape[0], batch_size):
            x = images[i:i + batch_size].to(device)
            acts = record_activations(model, x, objective.layers) if objective.layers else {}
            out.append(objective.values(acts, x))
    return torch.cat(out).to(images.device)


def _same_device(a: torch.device, b: torch.device) -> bool:
    # "cuda" and "cuda:0" name the same device when one of them leaves the index open
    return a.type == b.type and (a.index is None or b.index is None or a.index == b.index)


def _moved(grads: Sequence[torch.Tensor], batch: int) -> torch.Tensor:
    """(batch,) bool: which images got a non-zero gradient in any parameter."""
    per = [g.reshape(batch, -1).abs().amax(1) > 0 if g.ndim and g.shape[0] == batch
           else (g.abs().max() > 0).expand(batch)  # a parameter shared by the whole batch
           for g in grads]
    return torch.stack(per).any(0).cpu()


def _checked(values: torch.Tensor, objective: Objective, batch: int, step: int) -> torch.Tensor:
    if values.shape != (batch,):
        raise ValueError(f"objective {objective!r} gave shape {tuple(values.shape)}, expected ({batch},)")
    if not bool(torch.isfinite(values).all()):
        raise FloatingPointError(f"objective {objective!r} became non-finite at step {step}: "
                                 f"{values.detach().cpu().tolist()}; lower lr or check the model")
    if not values.requires_grad:
        raise ValueError(f"objective {objective!r} does not depend differentiably on the image; "
                         "a unit objective needs a unit whose clean() keeps gradients (CNNUnit does)")
    return values


def _check_model(model: nn.Module | None, objective: Objective) -> None:
    if model is None and objective.layers:
        raise ValueError(f"objective {objective!r} reads layers {sorted(objective.layers)}: pass the model")
    if model is not None and not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module (e.g. landscape.zoo.load(...)), got {type(model).__name__}")


def _as_transform(transforms: Any, size: int) -> Transform | None:
    if transforms is None:
        return None
    if isinstance(transforms, str):
        if transforms != "default":
            raise ValueError(f"transforms must be 'default', None or a sequence of transforms, got {transforms!r}")
        return default_transforms(size)
    if callable(transforms):
        return transforms
    return Compose(list(transforms))


def render(model: nn.Module | None, objective: Any, param: ImageParam | None = None,
           transforms: str | Sequence[Transform] | Transform | None = "default", steps: int = 256,
           lr: float = 0.05, seed: int | None = 0, device: str | torch.device | None = None,
           size: int | None = None, batch: int = 1, redirect_relu: bool = True, progress: bool = False
           ) -> tuple[torch.Tensor, np.ndarray]:
    """Render images that maximise ``objective`` on ``model``.

    Parameters
    ----------
    model : nn.Module or None
        A network taking images in [0, 1] (a :class:`landscape.zoo.ZooModel` does its own
        resizing and normalisation); its layers are named as in :func:`landscape.units.layers`.
        ``None`` is allowed when the objective reads no layer (``unit(...)`` only).
    objective : Objective, Unit or "layer:channel"
        What to maximise (see :mod:`landscape.featviz.objectives`).
    param : ImageParam or None
        The image parameterisation; default ``FourierImage(size, batch, decorrelate=True,
        squash="sigmoid", seed=seed)`` on ``device``.
    transforms : "default", sequence of transforms, a transform, or None
        Random transforms applied before every step; "default" is
        :func:`landscape.featviz.transforms.default_transforms` for the image size.
    steps : int
        Adam steps.
    lr : float
        Adam learning rate on the parameters (lucid's 0.05).
    seed : int or None
        Seeds the default parameterisation's start and the transforms' random draws.
    device : str, torch.device or None
        Where to optimise; default: the model's device. The model must already be there.
    size : int or None
        Image side for the default parameterisation; default ``model.input_size`` (zoo models).
    batch : int
        Number of images for the default parameterisation.
    redirect_relu : bool
        Pass lucid's redirected gradient through the model's ``nn.ReLU`` modules
        (:mod:`landscape.featviz.relu`), so that a unit silent for the starting image still gets
        a gradient (lucid's default too), until every image has made the objective non-zero once.
        The forward pass and the recorded values are unchanged; without it, 2 of the first 16 channels of ResNet-20 layer3 never moved from
        the default start.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    images : (B, 3, H, W) tensor in [0, 1] on ``device``, detached
    history : (steps, B) float64 array
        The objective value of each image at each step, measured on the transformed images
        the step optimised.
    """
    objective = as_objective(objective)
    _check_model(model, objective)
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    model_device = _model_device(model)
    device = torch.device(device) if device is not None else (model_device or torch.device("cpu"))
    if model_device is not None and not _same_device(model_device, device):
        raise ValueError(f"the model is on {model_device} but device={device}; move it with model.to({str(device)!r})")

    if param is None:
        if size is None:
            size = getattr(model, "input_size", None)
            if size is None:
                raise ValueError("pass size=...: the model has no input_size to take the image size from")
        param = FourierImage(size, batch, seed=seed, device=device)
    elif not isinstance(param, ImageParam):
        raise TypeError(f"param must be an ImageParam (e.g. FourierImage(...)), got {type(param).__name__}")
    elif (size is not None and size != param.height) or (batch != 1 and batch != param.batch):
        raise ValueError(f"size={size} / batch={batch} conflict with the given param ({param.extra_repr()}); "
                         "leave them out when passing param")
    param = param.to(device)
    transform = _as_transform(transforms, max(param.height, param.width))
    rng = torch.Generator().manual_seed(int(seed) if seed is not None else int(torch.seed() % 2**63))

    # eval mode for the run (batch-norm statistics, dropout); each module's own flag is put
    # back afterwards, since model.train(flag) would also flip submodules kept in eval mode
    training_flags = [(m, m.training) for m in model.modules()] if model is not None else []
    if model is not None:
        model.eval()
    params = [p for p in param.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    history = np.empty((steps, param.batch))
    # images whose gradient has been exactly zero at every step so far (a silent ReLU unit)
    never_moved = torch.ones(param.batch, dtype=torch.bool)
    # images whose objective has read exactly zero at every step so far; once none has, plain
    # ReLU gradients are enough and cost less than the redirected ones
    never_responded = np.ones(param.batch, dtype=bool)
    check_until = min(steps, STUCK_STEPS)
    bar = range(steps)
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(bar, desc=f"featviz {objective!r}", unit="step")
    try:
        # a caller's torch.no_grad() must not silently switch the ascent off
        with torch.enable_grad():
            for step in bar:
                images = param()
                x = transform(images, rng) if transform is not None else images
                redirect = redirect_relu and bool(never_responded.any())
                with redirected_relu(model) if redirect else contextlib.nullcontext():
                    acts = record_activations(model, x, objective.layers) if objective.layers else {}
                    values = _checked(objective.values(acts, x), objective, param.batch, step)
                history[step] = values.detach().double().cpu().numpy()
                never_responded &= history[step] == 0
                grads = torch.autograd.grad(-values.sum(), params)
                for p, g in zip(params, grads):
                    p.grad = g
                if step < check_until:
                    never_moved &= ~_moved(grads, param.batch)
                    if step == check_until - 1 and bool(never_moved.any()):
                        raise RuntimeError(
                            f"objective {objective!r} had zero gradient for images "
                            f"{never_moved.nonzero().flatten().tolist()} at each of the first {check_until} steps: "
                            "the unit is silent for the starting image. "
                            + ("Its ReLUs may be functions (F.relu), which redirect_relu cannot reach: "
                               if redirect_relu else "Try redirect_relu=True, ")
                            + "start from stronger noise (param=FourierImage(..., sd=0.3)), another seed, or an image "
                            "that drives it (param.set_images(...))")
                opt.step()
                if progress:
                    bar.set_postfix(value=float(history[step].mean()))
    finally:
        for m, flag in training_flags:
            m.training = flag
        if progress:
            bar.close()
    flat = np.ptp(history, axis=0) == 0
    if steps >= STUCK_STEPS and flat.any():
        raise RuntimeError(f"objective {objective!r} stayed at {history[0, flat].tolist()} for images "
                           f"{np.flatnonzero(flat).tolist()} through all {steps} steps: the unit never responded "
                           "to any image tried. Start from stronger noise (param=FourierImage(..., sd=0.3)), "
                           "another seed, or an image that drives it (param.set_images(...))")
    with torch.no_grad():
        images = param().detach().clamp(0, 1)
    return images, history
