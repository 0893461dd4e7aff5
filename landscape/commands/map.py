"""``landscape map RUN_DIR``: measure a tuning map around an evolution's result.

Writes ``OUT.npz`` + ``OUT.json`` (the :class:`~landscape.maps.TuningMap` format),
``OUT.png`` (heatmap), ``OUT.html`` (interactive heatmap, plotly embedded) and
``OUT.analysis.json`` (Gaussian and, on spheres, Kent fits; map level-set radii and the
local/global isotropy verdict; the smoothing factor; with ``--latent-level-sets`` the same
verdict in the full latent space around the run's best code). With ``--axes hessian`` and no
``--hessian`` file, the metric Hessian is computed through :mod:`geometry` at the run's best
code and saved as ``OUT.hessian.npz`` for the next call.
"""

from __future__ import annotations

import argparse

from .checks import nonneg_int, positive_float, positive_int

EPILOG = """\
axes:  pc (PC1-3 on a sphere, PC1-2 on a plane) | pc:1,49,50 | pc1-random (control sphere) |
       random | hessian | hessian:0,1[,2] (0-based eigenvectors; a sphere with two gets PC1 first)
grids: sphere:21 (21 x 21, 9 degree steps, the in silico protocol) | sphere:11 (in vivo) |
       sphere:N:LO:HI | sphere:NPHI:NTHETA:LO:HI | plane:N:LO:HI (offsets in latent units)
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("map", help="measure a tuning map around a run's result",
                       description="Measure a unit's responses over a sphere or plane of codes around an "
                                   "evolution run, with the run's generator and unit.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", metavar="RUN_DIR", help="run folder written by `landscape evolve`")
    p.add_argument("--axes", default="pc", help="axes request (default: %(default)s; see below)")
    p.add_argument("--grid", default="sphere:21", help="grid request (default: %(default)s; see below)")
    p.add_argument("--out", default=None,
                   help="output path, .npz optional (default: RUN_DIR/maps/AXES_GRID.npz)")
    p.add_argument("--hessian", default=None,
                   help=".npz with 'eigvecs' ((d, k) columns or (k, d) rows), e.g. geometry's HessianResult.save")
    p.add_argument("--hessian-distance", default="mse",
                   help="image distance for a Hessian computed here (default: %(default)s)")
    p.add_argument("--radius", type=positive_float, default=None,
                   help="sphere radius (default: mean code norm of the last generation)")
    p.add_argument("--reps", type=positive_int, default=None,
                   help="repetitions per image for a noisy unit (default 5; noise-free units take 1)")
    p.add_argument("--clean", action="store_true", help="map the run's unit without its noise model")
    p.add_argument("--fit-convention", choices=("project", "reference"), default="project",
                   help="Kent fit and sphere smoothing: the project's (bounded unimodal Kent, poles once, no "
                        "clipping) or the manifold papers' (reference bounds, poles per column, smoothed map "
                        "clipped at 0) (default: %(default)s)")
    p.add_argument("--batch-size", type=positive_int, default=None, help="images per forward pass")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed for random axes (default: %(default)s)")
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda when available)")
    p.add_argument("--latent-level-sets", action="store_true",
                   help="also measure level sets around the best code in the full latent space "
                        "(--latent-rays random great-circle directions plus the top 4 Hessian eigenvectors "
                        "when known; 24 images per direction)")
    p.add_argument("--latent-rays", type=positive_int, default=32,
                   help="random directions for --latent-level-sets (default: %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import re
    from pathlib import Path

    from landscape.commands.evolve import default_device
    from landscape.io import write_json
    from landscape.maps import map_from_run
    from landscape.maps.grids import parse_grid
    from landscape.maps.tuning_map import map_paths
    from landscape.pipeline import analyse_map, hessian_for_axes, latent_level_sets, load_run_models
    from landscape.plots import TuningMapDisplay, write_html

    import numpy as np

    from . import checks

    try:
        spec = parse_grid(args.grid)
    except ValueError as e:
        raise ValueError(f"--grid {args.grid!r}: {e}") from None
    check_axes(args.axes, spec.kind)
    if args.hessian is not None:
        h = checks.read_npz_arrays(checks.check_input_file(args.hessian, "--hessian", (".npz",)), "--hessian")
        if "eigvecs" not in h or np.ndim(h["eigvecs"]) != 2:
            raise ValueError(f"--hessian {args.hessian} holds no 2-D 'eigvecs' array (found: {', '.join(h) or 'nothing'})")
    if args.axes.startswith("hessian") and args.hessian is None:
        from geometry.distances import as_distance

        try:
            as_distance(args.hessian_distance)
        except ValueError as e:
            raise ValueError(f"--hessian-distance: {e}") from None
    run_ = checks.check_run_folder(args.run_dir)
    if args.out is not None:
        checks.check_out_file(args.out, "--out")
    out = args.out or str(Path(args.run_dir) / "maps" / re.sub(r"[^A-Za-z0-9.,_-]+", "_", f"{args.axes}_{args.grid}"))
    npz_path, json_path = map_paths(out)
    checks.check_out_file(str(npz_path), "--out")
    stem = npz_path.with_suffix("")
    device = default_device(args.device)
    generator, unit = load_run_models(run_.meta, device=device, noise=not args.clean)
    hessian, computed = hessian_for_axes(args.axes, generator, run_.best_code, hessian_file=args.hessian,
                                         distance=args.hessian_distance,
                                         save_to=stem.with_name(stem.name + ".hessian.npz"))
    if computed is not None:
        print(f"Hessian ({computed.method}, {computed.seconds:.1f} s) saved to {stem.with_name(stem.name + '.hessian.npz')}")

    tm = map_from_run(run_, generator, unit, axes=args.axes, grid=spec, hessian=hessian, radius=args.radius,
                      seed=args.seed, reps=args.reps, batch_size=args.batch_size, progress=not args.no_progress)
    tm.save(npz_path)
    png = TuningMapDisplay(tm).save_png(stem.with_name(stem.name + ".png"))
    analysis, smoothed = analyse_map(tm, fit_convention=args.fit_convention)
    html = write_html(TuningMapDisplay(tm, smoothed=smoothed).heatmap_figure(), stem.with_name(stem.name + ".html"))
    if args.latent_level_sets:
        analysis["latent_level_sets"] = latent_level_sets(generator, unit, run_.best_code, hessian=hessian,
                                                          n_rays=args.latent_rays, seed=args.seed,
                                                          batch_size=args.batch_size, progress=not args.no_progress)
    ana_path = stem.with_name(stem.name + ".analysis.json")
    write_json(ana_path, analysis)

    pk = tm.peak()
    where = (f"theta {pk['theta_deg']:g}, phi {pk['phi_deg']:g} deg" if tm.kind == "sphere"
             else f"a {pk['a']:g}, b {pk['b']:g}")
    print(f"{tm!r}")
    print(f"peak {pk['value']:.4g} at {where}; run's best score {run_.best_score:.4g}")
    if "fits" in analysis:
        for name, f in analysis["fits"].items():
            print(f"  {name}: R^2 = {f['r2']:.3f}")
    for key in ("smoothing_error", "fits_error", "level_sets_error"):
        if key in analysis:
            print(f"  not done: {key.split('_error')[0]}: {analysis[key]}")
    for coords, v in analysis.get("level_sets", {}).items():
        print(f"  map level sets ({coords}): local {v['local']}, global {v['global']}")
    for coords, v in analysis.get("latent_level_sets", {}).get("verdicts", {}).items():
        print(f"  latent level sets ({coords}): local {v['local']}, global {v['global']}")
    print(f"wrote {npz_path}, {json_path}, {png}, {html}, {ana_path}")
    return 0


AXES_SYNTAX = "pc, pc:I,J[,K], pc1-random, random, hessian or hessian:I,J[,K]"


def check_axes(axes: str, grid_kind: str) -> None:
    """The syntax of an --axes request (the numbers are checked against the run by the map itself)."""
    kind, _, rest = str(axes).partition(":")
    if kind not in ("pc", "pc1-random", "random", "hessian") or (rest and kind not in ("pc", "hessian")):
        raise ValueError(f"--axes {axes!r} is not an axes request (valid: {AXES_SYNTAX})")
    if rest:
        try:
            idx = [int(v) for v in rest.split(",")]
        except ValueError:
            idx = []
        need = (3,) if grid_kind == "sphere" and kind == "pc" else (2, 3) if grid_kind == "sphere" else (2,)
        low = 1 if kind == "pc" else 0
        if len(idx) not in need or min(idx) < low or len(set(idx)) != len(idx):
            raise ValueError(f"--axes {axes!r}: a {grid_kind} map takes {' or '.join(map(str, need))} distinct "
                             f"{'1-based PC' if kind == 'pc' else '0-based eigenvector'} numbers (valid: {AXES_SYNTAX})")
