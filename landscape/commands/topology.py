"""``landscape topology MAP.npz``: print a map's topological signature and write its pictures."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace

from .checks import float_at_least, int_at_least, nonneg_float, nonneg_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("topology", help="level-set and persistence signature of a tuning map",
                       description="Print the topological signature of a tuning map (contour counts, "
                                   "persistence, Morse critical points) and write diagrams and level-set "
                                   "pictures (PNG and standalone HTML). MAP is a TuningMap (.npz with its "
                                   ".json) or a plain .npz holding a 2-D array 'values' (plus optional "
                                   "'trials', 'sem', 'theta_deg', 'phi_deg').")
    p.add_argument("map", help="MAP.npz")
    p.add_argument("--domain", choices=("plane", "sphere"), default=None,
                   help="for a plain .npz: the map's surface (default: sphere if it holds theta_deg/phi_deg, "
                        "else plane); a TuningMap brings its own")
    p.add_argument("--levels", type=int_at_least(2), default=21, help="levels from min to max (default: %(default)s)")
    p.add_argument("--connectivity", type=int, choices=(4, 8), default=8,
                   help="pixel connectivity of super-level sets (default: %(default)s)")
    p.add_argument("--threshold", type=nonneg_float, default=0.1,
                   help="significant peak/ring persistence as a fraction of the range (default: %(default)s)")
    p.add_argument("--convention", choices=("project", "reference"), default="project",
                   help="contour counting: the project's (8-connected super-level sets, domain rules, AUC over "
                        "the level fraction) or the published recipe exactly (scikit-image find_contours, AUC "
                        "over level / max) to compare with the paper's curves (default: %(default)s)")
    p.add_argument("--nan-policy", choices=("raise", "harmonic"), default="raise",
                   help="missing values: reject, or fill by harmonic interpolation (default: %(default)s)")
    p.add_argument("--smooth", type=nonneg_float, default=0.0, metavar="SIGMA",
                   help="Gaussian smoothing (pixels) before the signature (default: none)")
    p.add_argument("--sigma", type=nonneg_float, default=1.0,
                   help="smoothing (pixels) before finding critical points (default: %(default)s)")
    p.add_argument("--bootstrap", type=nonneg_int, default=0, metavar="N",
                   help="N bootstrap samples and N null maps for reliability (needs trials or sem; default: off)")
    p.add_argument("--null", choices=("shuffle", "phase"), default="shuffle", help="null maps (default: %(default)s)")
    p.add_argument("--seed", type=nonneg_int, default=0)
    p.add_argument("--out", default=None, help="output folder (default: MAP's name + '_topology' beside it)")
    p.set_defaults(func=run)


def load_map(path: str | Path, domain: str | None = None):
    """A TuningMap when ``path`` has its ``.json`` header, else a Field from a plain ``.npz``."""
    import numpy as np

    from .checks import read_npz_arrays

    p = Path(path)
    if not str(path).strip():
        raise ValueError("MAP is empty: give a map .npz")
    if p.suffix not in (".npz", ".json", ""):
        raise ValueError(f"MAP must be an .npz file, got {p}")
    npz = p.with_suffix(".npz")
    if not npz.is_file():
        raise FileNotFoundError(f"map file {npz} not found")
    arrays = read_npz_arrays(npz, "MAP")  # a damaged file is named here, whichever kind it claims to be
    if npz.with_suffix(".json").is_file():
        import json
        import zipfile

        from landscape.maps import TuningMap

        try:
            return TuningMap.load(npz)
        except (KeyError, IndexError, TypeError, OSError, zipfile.BadZipFile, json.JSONDecodeError) as e:
            raise ValueError(f"MAP {npz} (with {npz.with_suffix('.json').name}) is not a readable tuning map: "
                             f"{type(e).__name__}: {e}") from None
    if "values" not in arrays:
        raise ValueError(f"{npz} holds no 'values' array (found: {', '.join(arrays) or 'nothing'}); a plain map "
                         "needs a 2-D array named 'values'")
    sphere = "theta_deg" in arrays or "phi_deg" in arrays
    kind = domain or ("sphere" if sphere else "plane")

    values = arrays["values"]
    if np.ndim(values) != 2 or min(np.shape(values)) < 2:
        raise ValueError(f"'values' in {npz} must be a 2-D array of at least 2 x 2, got shape {np.shape(values)}")
    if not np.issubdtype(values.dtype, np.number) or np.issubdtype(values.dtype, np.complexfloating):
        raise ValueError(f"'values' in {npz} must hold real numbers, got dtype {values.dtype}")
    n_rows, n_cols = np.shape(values)
    coords = {"theta_deg": arrays.get("theta_deg", np.linspace(-90, 90, n_cols)),
              "phi_deg": arrays.get("phi_deg", np.linspace(-90, 90, n_rows))} if kind == "sphere" else {}
    # duck-typed like a TuningMap, which is what as_field reads
    return SimpleNamespace(values=values, kind=kind, coords=coords, trials=arrays.get("trials"),
                           sem=arrays.get("sem"))


def run(args: argparse.Namespace) -> int:
    from landscape.io import write_json
    from landscape.topology.domain import as_field
    from landscape.topology.morse import MorseAnalysis
    from landscape.plots import SignatureDisplay
    from landscape.topology.signature import TopologySignature

    from .checks import check_out_folder

    tmap = load_map(args.map, args.domain)
    out = check_out_folder(args.out, "--out") if args.out is not None else Path(args.map).with_suffix("").with_name(
        Path(args.map).with_suffix("").name + "_topology")
    check_out_folder(str(out), "--out")
    if getattr(tmap, "kind", None) and args.domain and args.domain != tmap.kind:
        raise ValueError(f"--domain {args.domain} contradicts the map's kind {tmap.kind!r}")
    field = as_field(tmap, nan_policy=args.nan_policy)
    sig = TopologySignature(args.levels, args.connectivity, args.threshold, sigma=args.smooth,
                            contour_convention=args.convention).fit(field)
    morse = MorseAnalysis(sigma=args.sigma).fit(field)
    print(f"{args.map}")
    print(sig.format())
    print("")
    print(f"Morse (smoothed, sigma {args.sigma} px): {morse.n_maxima_} maxima, {morse.n_saddles_} saddles, "
          f"{morse.n_minima_} minima; #max - #saddle + #min = {morse.morse_sum_}, Euler characteristic of the "
          f"{field.domain.topology} = {morse.euler_characteristic_} "
          f"({'holds' if morse.morse_relation_holds_ else 'FAILS'})")
    paths = sig.save(out)
    record = sig.to_dict()
    record["morse"] = {"sigma": args.sigma, "n_maxima": morse.n_maxima_, "n_saddles": morse.n_saddles_,
                       "n_minima": morse.n_minima_, "morse_sum": morse.morse_sum_,
                       "euler_characteristic": morse.euler_characteristic_,
                       "critical_points": {k: v.tolist() for k, v in morse.critical_points_.items()},
                       "merge_tree": morse.merge_tree_.to_dict()}
    write_json(paths["signature"], record)
    if args.bootstrap:
        from landscape.topology.reliability import SignatureReliability

        rel = SignatureReliability(n_boot=args.bootstrap, n_null=args.bootstrap, null=args.null, seed=args.seed,
                                   progress=True, levels=args.levels, connectivity=args.connectivity,
                                   threshold=args.threshold, sigma=args.smooth,
                                   contour_convention=args.convention).fit(field)
        print("")
        print(f"reliability ({rel.resample_} resampling, {args.null} null, {args.bootstrap} samples each):")
        print(rel.format())
        paths["reliability"] = out / "reliability.json"
        write_json(paths["reliability"], rel.to_dict())
    paths.update(SignatureDisplay(sig).write(out))
    print("")
    for name, p in paths.items():
        print(f"wrote {p}")
    return 0
