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
    p.add_argument("--radius", type=float, default=None,
                   help="sphere radius (default: mean code norm of the last generation)")
    p.add_argument("--reps", type=int, default=None,
                   help="repetitions per image for a noisy unit (default 5; noise-free units take 1)")
    p.add_argument("--clean", action="store_true", help="map the run's unit without its noise model")
    p.add_argument("--fit-convention", choices=("project", "reference"), default="project",
                   help="Kent fit and sphere smoothing: the project's (bounded unimodal Kent, poles once, no "
                        "clipping) or the manifold papers' (reference bounds, poles per column, smoothed map "
                        "clipped at 0) (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=None, help="images per forward pass")
    p.add_argument("--seed", type=int, default=0, help="seed for random axes (default: %(default)s)")
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda when available)")
    p.add_argument("--latent-level-sets", action="store_true",
                   help="also measure level sets around the best code in the full latent space "
                        "(--latent-rays random great-circle directions plus the top 4 Hessian eigenvectors "
                        "when known; 24 images per direction)")
    p.add_argument("--latent-rays", type=int, default=32,
                   help="random directions for --latent-level-sets (default: %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def _load_hessian(path: str):
    import numpy as np

    with np.load(path, allow_pickle=False) as z:
        if "eigvecs" not in z.files:
            raise ValueError(f"{path} has no 'eigvecs' array (found {z.files}); save geometry's HessianResult")
        return z["eigvecs"]


def _compute_hessian(generator, code, distance: str, indices: list[int], out_path):
    try:
        from geometry.hessian import hessian
    except ImportError as e:
        raise RuntimeError(f"axes 'hessian' need --hessian FILE.npz, or the geometry package to compute one "
                           f"({e})") from e
    import torch

    z = torch.as_tensor(code, dtype=torch.float32, device=generator.device)
    d = generator.dim
    k_needed = max(indices) + 1 if indices else 2
    # the full matrix costs d Hessian-vector products; beyond a few hundred dimensions ask ARPACK for the top few
    if d <= 512:
        res = hessian(generator, z, distance=distance, method="full")
    else:
        res = hessian(generator, z, distance=distance, method="lanczos", k=max(k_needed, 8))
    res.save(out_path)
    print(f"Hessian ({res.method}, {res.seconds:.1f} s) saved to {out_path}")
    return res.eigvecs


def run(args: argparse.Namespace) -> int:
    import json
    import re
    from pathlib import Path

    from landscape.commands.evolve import default_device
    from landscape.maps import fit_map, load_run_models, map_from_run, save_html, save_png, smooth_sphere
    from landscape.maps.grids import parse_grid
    from landscape.maps.levelsets import LatentLevelSets, MapLevelSets, scorer
    from landscape.maps.tuning_map import map_paths
    from landscape.runs import Run

    spec = parse_grid(args.grid)
    run_ = Run.load(args.run_dir)
    if run_.n_generations == 0:
        raise ValueError(f"run {args.run_dir} has no completed generation to map")
    out = args.out or str(Path(args.run_dir) / "maps" / re.sub(r"[^A-Za-z0-9.,_-]+", "_", f"{args.axes}_{args.grid}"))
    npz_path, json_path = map_paths(out)
    stem = npz_path.with_suffix("")
    device = default_device(args.device)
    generator, unit = load_run_models(run_.meta, device=device, noise=not args.clean)

    hessian = None
    if args.axes.startswith("hessian"):
        if args.hessian:
            hessian = _load_hessian(args.hessian)
        else:
            idx = [int(s) for s in args.axes.split(":", 1)[1].split(",")] if ":" in args.axes else [0, 1]
            hessian = _compute_hessian(generator, run_.best_code, args.hessian_distance, idx,
                                       stem.with_name(stem.name + ".hessian.npz"))

    tm = map_from_run(run_, generator, unit, axes=args.axes, grid=spec, hessian=hessian, radius=args.radius,
                      seed=args.seed, reps=args.reps, batch_size=args.batch_size, progress=not args.no_progress)
    tm.save(npz_path)
    png = save_png(tm, stem.with_name(stem.name + ".png"))

    analysis: dict = {"peak": tm.peak()}
    smoothed = None
    if tm.kind == "sphere":
        try:
            smoothed = smooth_sphere(tm, clip_at_zero=args.fit_convention == "reference")
            analysis["smoothing_s"] = smoothed.s
            analysis["smoothing_clip_at_zero"] = smoothed.clip_at_zero
        except ValueError as e:  # too few rows for a spline: report it, the raw map is still written
            analysis["smoothing_error"] = str(e)
    html = save_html(tm, stem.with_name(stem.name + ".html"), smoothed=smoothed)
    try:
        analysis["fit_convention"] = args.fit_convention
        analysis["fits"] = {k: v.as_dict() for k, v in fit_map(tm, bounds=args.fit_convention).items()}
    except ValueError as e:
        analysis["fits_error"] = str(e)
    try:
        ls = MapLevelSets(smooth=smoothed is not None).fit(tm)
        analysis["level_sets"] = {k: v.as_dict() for k, v in ls.verdicts_.items()}
    except ValueError as e:
        analysis["level_sets_error"] = str(e)
    if args.latent_level_sets:
        import numpy as np

        from landscape.maps.axes import hessian_axes

        extra = None
        if hessian is not None:  # the top eigen-directions probe the sharpest image change
            h = np.asarray(hessian, float)
            k = h.shape[1] if h.shape[0] == generator.dim else h.shape[0]
            extra = hessian_axes(h, range(min(4, k)), dim=generator.dim)
        lls = LatentLevelSets(n_random=args.latent_rays, seed=args.seed)
        lls.fit(scorer(generator, unit, batch_size=args.batch_size, progress=not args.no_progress), run_.best_code,
                directions=extra)
        analysis["latent_level_sets"] = {
            "directions": int(lls.directions_.shape[0]), "peak": lls.peak_,
            "verdicts": {k: v.as_dict() for k, v in lls.verdicts_.items()},
            "fits": {k: v.as_dict() for k, v in lls.fits_.items()}}
    ana_path = stem.with_name(stem.name + ".analysis.json")
    ana_path.write_text(json.dumps(analysis, indent=2))

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
