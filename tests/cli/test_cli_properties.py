"""Property-based tests of the command line's error contract (issue #16).

Every subcommand's parser and checks, and the spec validators behind them (noise, positions,
unit ids, grids, sweep specs, optimizer settings), are driven with generated good and bad
input. The property: an input is either accepted, or refused with the documented error type
and a one-line message; never another exception, never a traceback, and the CLI exits 1 or 2.
Accepted command lines stop where the work would begin (``benchmarks/bad_input.stop_before_work``).
"""

from __future__ import annotations

import copy
import json
import math
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
try:
    import bad_input as bi
finally:
    sys.path.remove(str(REPO / "benchmarks"))

from landscape.cli import main  # noqa: E402

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                      HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def ws(tmp_path_factory, weights_dir):
    return bi.make_workspace(tmp_path_factory.mktemp("bad-input"))


def _one_line(message: str) -> bool:
    return len(str(message).splitlines()) == 1 and str(message).strip() != ""


# --------------------------------------------------------------------------------------
# the command line, in process
# --------------------------------------------------------------------------------------
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@st.composite
def command_lines(draw, ws):
    table = bi.option_table(ws)
    command = draw(st.sampled_from(sorted(table)))
    options = table[command]
    argv = [command]
    required = [k for k in bi.REQUIRED[command] if draw(st.integers(0, 19))]  # sometimes one is left out
    extra = draw(st.lists(st.sampled_from(sorted(options) or [""]), max_size=4, unique=True))
    for opt in required + [e for e in extra if e not in required and e in options]:
        values = options[opt]
        if opt and not values:
            argv.append(opt)
            continue
        value = draw(st.sampled_from(values) if values and draw(st.integers(0, 3)) else TEXT)
        if value in ("NEW", "NEW.html"):
            value = ws.fresh("h") + (".html" if value == "NEW.html" else "")
        argv += [value] if opt == "" else [opt, value]
    return argv


@FAST
@given(data=st.data())
def test_every_command_line_is_accepted_or_refused_in_one_line(ws, data):
    argv = data.draw(command_lines(ws))
    with bi.stop_before_work():
        a = bi.run_inprocess(argv)
    assert a.verdict in ("accepted", "rejected"), f"{argv}: rc={a.rc}\n{a.err}"
    if a.verdict == "rejected":
        assert a.lines[0].startswith(f"landscape {argv[0]}: error: ") or a.lines[0].startswith("landscape: error: ")


@FAST
@given(argv=st.lists(TEXT, max_size=6))
def test_arbitrary_words_never_give_a_traceback(ws, argv):
    with bi.stop_before_work():
        a = bi.run_inprocess(argv)
    assert a.verdict in ("accepted", "rejected"), f"{argv}: rc={a.rc}\n{a.err}"


def test_a_bug_keeps_its_traceback_and_says_so(monkeypatch, capsys):
    import landscape.commands.report as report

    def broken(args):
        raise KeyError("oops")

    monkeypatch.setattr(report, "run", broken)
    assert main(["report", "somewhere"]) == 3
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "KeyError" in err
    assert err.strip().splitlines()[-1].startswith("landscape report: internal error: KeyError") and "bug" in err


def test_debug_shows_the_traceback_of_an_expected_error(tmp_path, capsys, monkeypatch):
    assert main(["topology", str(tmp_path / "none.npz")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert main(["--debug", "topology", str(tmp_path / "none.npz")]) == 2
    assert "Traceback (most recent call last)" in capsys.readouterr().err
    monkeypatch.setenv("LANDSCAPE_DEBUG", "1")
    assert main(["topology", str(tmp_path / "none.npz")]) == 2
    assert "FileNotFoundError" in capsys.readouterr().err


def test_work_that_fails_exits_1_and_bad_input_2(monkeypatch, capsys):
    import landscape.commands.report as report
    from landscape.record import RunError

    monkeypatch.setattr(report, "run", lambda args: (_ for _ in ()).throw(RunError("the disk is full")))
    assert main(["report", "x"]) == 1
    assert capsys.readouterr().err == "landscape report: error: the disk is full\n"
    monkeypatch.setattr(report, "run", lambda args: (_ for _ in ()).throw(ValueError("bad\nvalue")))
    assert main(["report", "x"]) == 2
    assert capsys.readouterr().err == "landscape report: error: bad value\n"


# --------------------------------------------------------------------------------------
# spec validators
# --------------------------------------------------------------------------------------
NUM = st.one_of(st.integers(-5, 10**13).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
                st.sampled_from(["inf", "-inf", "nan", "NaN", "Infinity", "1e400", "", " 3", "1_0", "0x10", "5"]))


@st.composite
def noise_texts(draw):
    kind = draw(st.sampled_from(["none", "poisson", "poisson-spikes", "gaussian", "Poisson", "", "gauss"]))
    params = draw(st.lists(NUM, max_size=4))
    return ":".join([kind, *params])


@FAST
@given(text=st.one_of(noise_texts(), TEXT))
def test_noise_specs_are_valid_or_refused(text):
    from landscape.units.spec import MAX_NOISE_REPS, parse_noise

    try:
        nz = parse_noise(text)
    except ValueError as e:
        assert _one_line(e) and repr(text) in str(e)
        return
    for key in ("scale", "spikes", "sigma"):
        if key in nz:
            assert math.isfinite(nz[key]) and nz[key] >= 0 and (key == "sigma" or nz[key] > 0)
    assert 1 <= nz.get("reps", 1) <= MAX_NOISE_REPS


@FAST
@given(scale=st.floats(1e-6, 1e6), reps=st.integers(1, 10_000), sigma=st.floats(0, 10))
def test_good_noise_specs_are_accepted_as_written(scale, reps, sigma):
    from landscape.units.spec import parse_noise

    assert parse_noise(f"poisson:{scale!r}:{reps}") == {"kind": "poisson", "scale": scale, "reps": reps}
    assert parse_noise(f"gaussian:{sigma!r}") == {"kind": "gaussian", "sigma": sigma}


@FAST
@given(text=st.one_of(TEXT, st.builds(lambda m, l, c, p: f"{m}/{l}/{c}@{p}", TEXT, TEXT, NUM,
                                      st.one_of(TEXT, st.sampled_from(["center", "mean", "1,2", "-1,0"])))))
def test_unit_ids_and_positions_round_trip_or_are_refused(text):
    from landscape.units.spec import parse_position, parse_unit_id, unit_id

    try:
        d = parse_unit_id(text)
    except ValueError as e:
        assert _one_line(e)
    else:
        again = parse_unit_id(unit_id({**d, "position": parse_position(d["position"])}))
        assert (again["model"], again["layer"], again["channel"]) == (d["model"], d["layer"], d["channel"])
    try:
        parse_position(text)
    except ValueError as e:
        assert _one_line(e)


@FAST
@given(kind=st.sampled_from(["sphere", "plane", "cube", ""]), nums=st.lists(NUM, max_size=5))
def test_grid_requests_are_bounded_or_refused(kind, nums):
    from landscape.maps.grids import MAX_GRID_POINTS, parse_grid

    text = ":".join([kind, *nums])
    try:
        g = parse_grid(text)
    except ValueError as e:
        assert _one_line(e)
        return
    assert 1 <= g.rows * g.cols <= MAX_GRID_POINTS and math.isfinite(g.lo) and math.isfinite(g.hi)


GOOD_SPEC = {"sweep": {"budget": 20, "seeds": [0, 1], "noise": ["none", "gaussian:0.2"]},
             "units": [{"model": "resnet20-cifar10", "layers": ["layer3"], "channels": [5, 6]}],
             "optimizers": {"ga": {"population": 10}},
             "map": {"grid": "sphere:5"}, "topology": {"levels": 11}}
JSONISH = st.recursive(st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats() | TEXT |
                       st.sampled_from(["none", "poisson:inf", "random 3", "all", "center", "sphere:21", "ga", "pc"]),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                       max_leaves=6)
FIELDS = [("sweep", k) for k in ("generator", "generators", "budget", "seeds", "noise", "init", "references",
                                 "normalise", "reference_optimizer", "device", "torch_threads", "workers", "out",
                                 "bogus")] + \
    [("units", k) for k in ("model", "layer", "layers", "channels", "position", "channel_seed", "bogus")] + \
    [("optimizers", "ga"), ("optimizers", "x"), ("map", "axes"), ("map", "grid"), ("map", "reps"),
     ("map", "seed"), ("topology", "levels"), ("topology", "connectivity"), ("topology", "threshold"),
     ("topology", "contour_convention"), ("", "sweep"), ("", "units"), ("", "optimizers"), ("", "map"),
     ("", "topology"), ("", "extra")]


@FAST
@given(changes=st.lists(st.tuples(st.sampled_from(FIELDS), JSONISH), min_size=1, max_size=3))
def test_sweep_spec_dicts_load_or_name_the_bad_field(changes):
    from landscape.sweep.spec import MAX_TASKS, SpecError, SweepSpec, load_spec

    spec = copy.deepcopy(GOOD_SPEC)
    for (section, key), value in changes:
        if section == "":
            spec[key] = value
        elif section == "units" and isinstance(spec.get("units"), list) and spec["units"] \
                and isinstance(spec["units"][0], dict):
            spec["units"][0][key] = value
        elif isinstance(spec.get(section), dict):
            spec[section][key] = value
    try:
        s = load_spec(spec)
    except SpecError as e:
        assert _one_line(e) and str(e).startswith("spec field ")
        return
    assert isinstance(s, SweepSpec) and s.budget >= 1 and len(s.seeds) <= MAX_TASKS


@settings(max_examples=25, deadline=None)
@given(text=st.one_of(TEXT, st.builds(lambda k, v: f"[sweep]\n{k} = {v}\n", TEXT, TEXT)))
def test_sweep_toml_text_parses_or_is_refused(text):
    from landscape.sweep.spec import SpecError, load_spec

    assume("\n" in text or "=" in text)  # a bare word is read as a file name
    with pytest.raises(SpecError) as e:
        load_spec(text)
    assert _one_line(e.value)


SETTING_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                           st.sampled_from(["abc", "", "float64", "float32", "worst", "raise", "linear"]),
                           st.lists(st.integers(-3, 3), max_size=3))


@st.composite
def optimizer_settings(draw):
    import inspect

    from landscape import optim

    name = draw(st.sampled_from(optim.names()))
    params = [p for p in inspect.signature(optim.OPTIMIZERS[name]).parameters
              if p not in ("dim", "seed", "device", "init_codes")]
    keys = draw(st.lists(st.sampled_from(params + ["bogus"]), max_size=3, unique=True))
    return name, {k: draw(SETTING_VALUES) for k in keys}


@settings(max_examples=120, deadline=None)
@given(case=optimizer_settings())
def test_accepted_optimizer_settings_run_a_generation(case):
    """Settings the CLI accepts really work (one ask/tell on 8 dimensions); the others are refused up front."""
    import torch

    from landscape import optim
    from landscape.commands.checks import check_optimizer

    name, s = case
    try:
        check_optimizer(name, s, budget=10**6)
    except ValueError as e:
        assert _one_line(e)
        return
    opt = optim.make(name, 8, seed=0, device="cpu", **s)
    codes = opt.ask()
    assert codes.ndim == 2 and codes.shape[1] == 8 and torch.isfinite(codes).all()
    opt.tell(codes, -(codes.double() ** 2).sum(1))
    assert torch.isfinite(opt.ask()).all()


@FAST
@given(text=TEXT)
def test_set_option_parses_or_is_a_usage_error(text):
    import argparse

    from landscape.commands.evolve import _setting

    try:
        k, v = _setting(text)
    except argparse.ArgumentTypeError as e:
        assert _one_line(e)
        return
    assert k.isidentifier() and k == k.strip()
    json.dumps(v, allow_nan=False)  # a finite JSON value (or the text itself)


# --------------------------------------------------------------------------------------
# a real process: stderr is exactly one line
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [["evolve", "--noise", "poisson:inf", "--out", "x"],
                                  ["map", "/nonexistent/run"]])
def test_stderr_of_a_real_process_is_one_line(argv):
    a = bi.run_subprocess(argv)
    assert a.rc == 2 and len(a.err.splitlines()) == 1 and a.err.startswith(f"landscape {argv[0]}: error: "), a.err
