"""``landscape characterise``: classic single-cell characterisation of a CNN unit, or an opponency survey."""

from __future__ import annotations

import argparse

from .checks import int_at_least, nonneg_int, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "characterise", help="tuning curves, receptive field and opponency of a CNN unit, or a layer survey",
        description="With --channel: measure one unit (orientation, spatial frequency, contrast, size, colour, "
                    "sparse-noise receptive field, opponency) and write summary.json and report.html to --out; "
                    "with --run also the parametric / natural / evolved comparison. Without --channel: classify "
                    "every channel of the --layer(s) as double-, colour-, spatially, non-opponent or unresponsive "
                    "and write survey.csv, fractions.csv, survey.json and survey.html.")
    p.add_argument("--model", default="resnet20-cifar10", help="zoo classifier (default: %(default)s)")
    p.add_argument("--layer", action="append", required=True,
                   help="layer name, repeatable for a survey; see `landscape layers MODEL`")
    p.add_argument("--channel", type=nonneg_int, default=None, help="characterise this channel (else survey the layers)")
    p.add_argument("--position", default="center", help="'center', 'mean' or 'y,x' (default: %(default)s)")
    p.add_argument("--noise", default="none", help="none, poisson:SCALE[:REPS] or gaussian:SIGMA")
    p.add_argument("--reps", type=positive_int, default=None, help="presentations per stimulus of a noisy unit (default 8; a noise-free unit is measured "
                        "once, and --reps > 1 for it is an error)")
    p.add_argument("--size", type=int_at_least(8), default=None, help="stimulus side in pixels (default: the model's input)")
    p.add_argument("--run", default=None, help="an evolution run folder to compare with (single unit only)")
    p.add_argument("--references", default="default",
                   help="reference set for --run: 'default' (the model's domain set), a named set (see "
                        "`landscape evolve --help`) or a folder of images (default: %(default)s)")
    p.add_argument("--seed", type=nonneg_int, default=0)
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda when available)")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .. import zoo
    from ..io import write_json
    from ..references import resolve_reference_source, validate_reference_source
    from ..units.spec import build_unit
    from .evolve import default_device

    from . import checks

    checks.check_out_folder(args.out)
    checks.check_zoo_name(args.model, "classifier", "--model")
    checks.check_position(args.position)
    noise = checks.check_noise(args.noise)
    if noise["kind"] == "poisson-spikes":
        raise ValueError(f"--noise {args.noise!r}: calibrated noise needs a generator's prior images; characterise "
                         "takes none, poisson:SCALE[:REPS] or gaussian:SIGMA")
    if args.channel is None:
        for flag, value in (("--run", args.run), ("--reps", args.reps)):
            if value is not None:
                raise ValueError(f"{flag} is for one unit: add --channel (a survey measures every channel once)")
        if args.noise != "none":
            raise ValueError("--noise is for one unit: add --channel (a survey measures clean responses)")
    elif len(args.layer) != 1:
        raise ValueError(f"give exactly one --layer with --channel (got {len(args.layer)})")
    if args.run is not None:
        run_meta = checks.check_run_folder(args.run, "--run").meta
        gen_name = run_meta.get("generator", {}).get("name") if isinstance(run_meta.get("generator"), dict) else None
        if gen_name not in zoo.names("generator"):
            raise ValueError(f"--run {args.run}: its meta.json names generator {gen_name!r}, which is not a zoo "
                             f"generator (valid: {', '.join(zoo.names('generator'))})")
        try:
            validate_reference_source(resolve_reference_source(args.references, args.model))
        except (ValueError, FileNotFoundError, RuntimeError) as e:
            raise ValueError(f"--references {args.references!r}: {e}") from None
    device = default_device(args.device)
    model = zoo.load(args.model, device=device)
    size = args.size or model.input_size
    if size is None:
        raise ValueError(f"{args.model!r} takes any image size: pass --size")
    refs = None
    if args.run is not None:  # read before the measurements, so a bad image is found now
        from ..references import load_reference_set

        try:
            refs = load_reference_set(resolve_reference_source(args.references, args.model), size=size)
        except (OSError, ValueError, RuntimeError, ImportError) as e:
            raise ValueError(f"--references {args.references!r}: {type(e).__name__}: {e}") from None
    out = Path(args.out)
    if args.channel is None:
        from ..units import layers as layer_names

        valid = layer_names(model)
        for layer in args.layer:
            if layer not in valid:
                raise ValueError(f"--layer {layer!r} is not a layer of {args.model!r} (valid: {', '.join(valid)})")
        out.mkdir(parents=True, exist_ok=True)
        from ..characterise import OpponencySurvey
        from ..plots import OpponencySurveyDisplay

        position = checks.check_position(args.position)
        survey = OpponencySurvey(args.layer, size=size, position=position, device=device, progress=True).fit(model)
        paths = survey.write(out)
        paths["html"] = OpponencySurveyDisplay(survey).write_html(out / "survey.html")
        for layer in survey.layers:
            fr = survey.fractions_[layer]
            print(f"{layer:24s} " + "  ".join(f"{k} {v:.0%}" for k, v in fr.items()))
        print("wrote " + ", ".join(str(p) for p in paths.values()))
        return 0
    if len(args.layer) != 1:
        raise ValueError("give exactly one --layer with --channel")
    unit = build_unit(args.model, args.layer[0], args.channel, args.position, args.noise, args.seed, device,
                      model=model)
    out.mkdir(parents=True, exist_ok=True)
    summary, figures = characterise_unit(unit, size, args.reps, args.seed)
    if args.run:
        summary["comparison"] = _compare(unit, size, args, out, device, refs)
    from ..plots import write_figures_html

    write_json(out / "summary.json", {"unit": unit.describe(), **summary})
    write_figures_html(figures, out / "report.html", title=f"{args.model} {args.layer[0]} channel {args.channel}")
    o, f, op = summary["orientation"], summary["frequency"], summary["opponency"]
    print(f"unit {unit.describe()}")
    print(f"orientation {o['preferred_orientation']:.1f} deg (CV {o['circular_variance']:.2f}), "
          f"frequency {f['preferred_frequency']:.3g} c/img ({f['bandwidth_octaves']:.2f} oct), "
          f"opponency: {op['class']}")
    print(f"wrote {out / 'summary.json'}, {out / 'report.html'}")
    return 0


def characterise_unit(unit, size: int, reps: int | None = None, seed: int = 0) -> tuple[dict, list]:
    """Run the standard battery on one unit; (summary dict, plotly figures)."""
    from ..characterise import (ColorTuning, ContrastResponse, FrequencyTuning, Opponency, OrientationTuning,
                                SizeTuning, SparseNoiseRF)
    from ..plots import display

    ori = OrientationTuning(size=size, reps=reps, seed=seed).fit(unit)
    r = ori.responses_.reshape(ori.responses_.shape[0], -1)
    sf = FrequencyTuning(size=size, reps=reps, seed=seed).fit_responses(r, ori.baseline_)
    rf = SparseNoiseRF(size=size, reps=reps, seed=seed).fit(unit)
    x, y = (float(v) for v in rf.center_) if all(abs(v) <= 0.5 for v in rf.center_) else (0.0, 0.0)
    con = ContrastResponse(ori.preferred_orientation_, sf.preferred_frequency_, size=size, reps=reps,
                           seed=seed).fit(unit)
    siz = SizeTuning(size=size, x=x, y=y, reps=reps, seed=seed).fit(unit)
    col = ColorTuning(size=size, reps=reps, seed=seed).fit(unit)
    opp = Opponency(size=size, x=x, y=y, reps=reps).fit(unit)
    analyses = {"orientation": ori, "frequency": sf, "contrast": con, "size": siz, "color": col,
                "receptive_field": rf, "opponency": opp}
    return {k: a.summary() for k, a in analyses.items()}, [display(a).figure() for a in analyses.values()]


def _compare(unit, size, args, out, device, refs) -> dict:
    from .. import zoo
    from ..characterise import compare_with_evolution
    from ..plots import ComparisonDisplay
    from ..runs import Run

    run = Run.load(args.run)
    gen_name = run.meta.get("generator", {}).get("name")
    if gen_name is None:
        raise ValueError(f"run {args.run} does not name its generator in meta.json")
    generator = zoo.load(gen_name, device=device)
    # the run's optimized image (XDream's: the last generation's best by observed score)
    res = compare_with_evolution(unit, _grating_set(size), refs, run, generator=generator)
    ComparisonDisplay(res).write(out)
    res.save(out)
    return res.to_dict()


def _grating_set(size: int):
    from ..characterise.grating_tuning import default_frequencies
    from ..stimuli import gratings

    return gratings(size, 12, default_frequencies(size), 4)
