"""Notebook 03's exercises: a tuning curve measured by hand, and reading a sphere map."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from landscape.exercises.base import as_array, as_number, fail, fmt, not_done, passed

#: offsets the tuning-curve check measures (latent units)
CHECK_OFFSETS = np.linspace(-6.0, 6.0, 7)


def check_tuning_curve(tuning_curve: Callable[..., Any], generator: Any, unit: Any, center: Any,
                       axis: Any) -> bool:
    """Check ``tuning_curve(generator, unit, center, axis, offsets) -> (m,) responses`` against
    :func:`landscape.maps.tuning_curves` along the same axis.

    Parameters
    ----------
    tuning_curve : the student's function; response to the image of ``center + t * axis`` for each ``t``
    generator, unit : a noise-free unit (the check compares numbers exactly, up to float error)
    center : (d,) code, axis : (d,) direction
    """
    from landscape import maps

    not_done(tuning_curve, "tuning_curve")
    center = as_array(center, "center").reshape(-1)
    axis = as_array(axis, "axis").reshape(-1)
    got = as_array(tuning_curve(generator, unit, center.copy(), axis.copy(), CHECK_OFFSETS.copy()),
                   "the returned responses").reshape(-1)
    expected = maps.tuning_curves(generator, unit, center, axis[None], CHECK_OFFSETS, progress=False).values[0]
    if got.shape != expected.shape:
        fail(f"for {CHECK_OFFSETS.size} offsets tuning_curve returned {got.size} values",
             "one response per offset, in the order of the offsets")
    scale = max(1e-6, float(np.ptp(expected)))
    if np.allclose(got, expected, atol=1e-3 * scale, rtol=1e-3):
        return passed(f"your tuning curve matches landscape.maps.tuning_curves at {CHECK_OFFSETS.size} offsets "
                      f"(response range {fmt(np.ptp(expected))})")
    if np.allclose(got, expected[::-1], atol=1e-3 * scale, rtol=1e-3):
        hint = "the curve comes out reversed: the code for offset t is center + t * axis"
    elif np.ptp(got) < 1e-6 * scale:
        hint = "every offset gives the same response: move the code, codes = center + t * axis for each t"
    else:
        hint = ("build one code per offset, codes = center[None] + offsets[:, None] * axis[None] (a (m, d) "
                "float32 tensor on the generator's device), then responses = unit(generator(codes))")
    fail(f"at offsets {np.round(CHECK_OFFSETS, 1).tolist()}: yours {np.round(got, 3).tolist()}, "
         f"expected {np.round(expected, 3).tolist()}", hint)


def check_sphere_peak(theta_deg: Any, phi_deg: Any, tuning_map: Any) -> bool:
    """Check the (longitude θ, latitude φ) in degrees the student read off as a sphere map's peak."""
    not_done(theta_deg, "theta_deg")
    not_done(phi_deg, "phi_deg")
    t = as_number(theta_deg, "theta_deg")
    p = as_number(phi_deg, "phi_deg")
    if getattr(tuning_map, "kind", None) != "sphere":
        fail("check_sphere_peak needs a sphere TuningMap (maps.map_from_run(..., grid='sphere:N'))")
    thetas, phis = tuning_map.coords["theta_deg"], tuning_map.coords["phi_deg"]
    values = tuning_map.values
    top = float(np.nanmax(values))
    tol = 1e-9 * max(1.0, abs(top))

    def at(theta: float, phi: float) -> float | None:
        """The map's value at a grid point (None off the grid)."""
        j, i = int(np.argmin(abs(thetas - theta))), int(np.argmin(abs(phis - phi)))
        if abs(thetas[j] - theta) > 1e-6 or abs(phis[i] - phi) > 1e-6:
            return None
        return float(values[i, j])

    value, swapped = at(t, p), at(p, t)
    if value is not None and value >= top - tol:
        return passed(f"the peak is at θ = {fmt(t)}°, φ = {fmt(p)}° (response {fmt(top)})")
    if swapped is not None and swapped >= top - tol:
        fail(f"the response at θ = {fmt(t)}°, φ = {fmt(p)}° is not the map's maximum {fmt(top)}",
             "θ and φ are swapped: values[i, j] has latitude φ = phi_deg[i] on rows, longitude θ = theta_deg[j] "
             "on columns")
    if value is None:
        fail(f"(θ, φ) = ({fmt(t)}°, {fmt(p)}°) is not a grid point of the map",
             "read θ from tuning_map.coords['theta_deg'] and φ from tuning_map.coords['phi_deg']")
    fail(f"the response at θ = {fmt(t)}°, φ = {fmt(p)}° is {fmt(value)}, not the map's maximum {fmt(top)}",
         "i, j = np.unravel_index(np.nanargmax(values), values.shape); θ = theta_deg[j], φ = phi_deg[i]")
