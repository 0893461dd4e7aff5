"""Notebook 06's exercise: gradient ascent on a latent code, written by hand."""

from __future__ import annotations

from typing import Any

import torch

from landscape.exercises.base import as_array, fail, fmt, not_done, passed

#: the hand-written ascent must raise the response by at least this fraction of the start's
MIN_GAIN = 0.2


def check_latent_ascent(code: Any, start_code: Any, generator: Any, unit: Any) -> bool:
    """Check that ``code``, the end of a hand-written gradient ascent from ``start_code``, drives the
    unit clearly harder than the start did (by at least 20% of the start's response, and above 0).

    Parameters
    ----------
    code, start_code : (d,) codes (tensor or array)
    generator : the notebook's generator
    unit : callable images -> (B,) responses (use the noise-free ``unit.clean``)
    """
    not_done(code, "code")
    end = torch.as_tensor(as_array(code, "code").reshape(-1), dtype=torch.float32, device=generator.device)
    start = torch.as_tensor(as_array(start_code, "start_code").reshape(-1), dtype=torch.float32,
                            device=generator.device)
    if end.shape != (generator.dim,):
        fail(f"code must have {generator.dim} numbers (one latent code), got {tuple(end.shape)}",
             "return the optimised code itself, z.detach(), not a batch or an image")
    if not torch.isfinite(end).all():
        fail("the code holds NaN or infinite numbers", "a smaller learning rate keeps Adam stable")
    with torch.no_grad():
        r0, r1 = (float(v) for v in unit(generator(torch.stack([start, end]))))
    if torch.equal(end, start):
        fail("the code is exactly the start code: it never moved",
             "make z a leaf tensor with requires_grad=True, give it to torch.optim.Adam([z], lr=...), and call "
             "loss.backward() and optimizer.step() every step (optimizer.zero_grad() before)")
    if r1 < r0:
        fail(f"the response fell from {fmt(r0)} to {fmt(r1)}",
             "optimisers minimise: the loss is minus the response, loss = -unit(generator(z[None]))[0]")
    if r1 < r0 + MIN_GAIN * max(abs(r0), 1e-3):
        fail(f"the response rose only from {fmt(r0)} to {fmt(r1)}",
             "take more steps or a larger learning rate (Adam with lr=0.05 for 50 steps is plenty here)")
    return passed(f"your ascent raised the response from {fmt(r0)} to {fmt(r1)} ({r1 / r0:.1f}x)" if r0 > 0 else
                  f"your ascent raised the response from {fmt(r0)} to {fmt(r1)}")
