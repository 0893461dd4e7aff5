"""scikit-learn's conventions on every analysis: get_params, set_params, repr, check_is_fitted."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import numpy as np
import pytest

from landscape.estimator import Estimator, NotFittedError, check_is_fitted

ANALYSIS_PACKAGES = ("landscape.maps", "landscape.topology", "landscape.characterise")
# classes with a fit method that are not analyses: results and helpers
NOT_ANALYSES: set[str] = set()


def analysis_classes() -> list[type]:
    found = []
    for pkg_name in ANALYSIS_PACKAGES:
        pkg = importlib.import_module(pkg_name)
        for info in pkgutil.iter_modules(pkg.__path__):
            mod = importlib.import_module(f"{pkg_name}.{info.name}")
            for _, cls in inspect.getmembers(mod, inspect.isclass):
                if cls.__module__ == mod.__name__ and callable(getattr(cls, "fit", None)) \
                        and not cls.__name__.startswith("_") and cls.__name__ not in NOT_ANALYSES:
                    found.append(cls)
    return found


def test_every_analysis_with_fit_is_an_estimator():
    classes = analysis_classes()
    names = {c.__name__ for c in classes}
    # the set is found by scanning, so a new analysis without the mixin fails here
    assert {"TopologySignature", "SuperlevelPersistence", "MorseAnalysis", "ContourSignature",
            "SignatureReliability", "TrajectoryPCA", "LatentLevelSets", "MapLevelSets", "OrientationTuning",
            "PositionSearch", "OpponencySurvey"} <= names
    assert [c.__name__ for c in classes if not issubclass(c, Estimator)] == []


REQUIRED = {"layers": ["layer1"], "orientation": 45.0, "frequency": 2.0}


def _instance(cls: type) -> Estimator:
    required = [p.name for p in inspect.signature(cls).parameters.values()
                if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    return cls(**{k: REQUIRED[k] for k in required})


@pytest.mark.parametrize("cls", analysis_classes(), ids=lambda c: c.__name__)
def test_params_round_trip_and_clone(cls):
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError as SkNotFittedError
    from sklearn.utils.validation import check_is_fitted as sk_check_is_fitted

    a = _instance(cls)
    params = a.get_params()
    assert list(params) == [p for p in inspect.signature(cls).parameters
                            if inspect.signature(cls).parameters[p].kind is not inspect.Parameter.VAR_KEYWORD]
    b = clone(a)  # scikit-learn's own clone: get_params + the constructor
    assert type(b) is cls and repr(b) == repr(a) and b is not a
    assert repr(a).startswith(f"{cls.__name__}(")
    with pytest.raises(NotFittedError, match="is not fitted yet"):
        check_is_fitted(a)
    with pytest.raises(SkNotFittedError):  # scikit-learn's check reads __sklearn_is_fitted__
        sk_check_is_fitted(a)
    if not any(p.kind is p.VAR_KEYWORD for p in inspect.signature(cls).parameters.values()):
        with pytest.raises(ValueError, match="invalid parameter 'no_such_parameter'.*valid parameters: "):
            a.set_params(no_such_parameter=1)


def test_repr_shows_only_parameters_changed_from_their_defaults():
    from landscape.topology import SignatureReliability, SuperlevelPersistence, TopologySignature

    assert repr(TopologySignature()) == "TopologySignature()"
    assert repr(TopologySignature(levels=11, sigma=1.0)) == "TopologySignature(levels=11, sigma=1.0)"
    assert repr(SuperlevelPersistence(levels=np.array([0.1, 0.5]))) == \
        "SuperlevelPersistence(levels=array([0.1, 0.5]))"
    # **signature_params are parameters too, and reach the rebuilt analysis
    rel = SignatureReliability(n_boot=20, sigma=0.5)
    assert repr(rel) == "SignatureReliability(n_boot=20, sigma=0.5)"
    assert rel.get_params()["sigma"] == 0.5
    assert type(rel)(**rel.get_params()).signature_params == {"sigma": 0.5}
    assert rel.set_params(threshold=0.2).signature_params == {"sigma": 0.5, "threshold": 0.2}


def test_fitted_state_and_messages():
    from sklearn.utils.validation import check_is_fitted as sk_check_is_fitted

    from landscape.maps import TrajectoryPCA
    from landscape.topology import SuperlevelPersistence, TopologySignature

    values = np.add.outer(np.hanning(12), np.hanning(12))
    sig = TopologySignature(levels=5)
    with pytest.raises(NotFittedError, match=r"TopologySignature is not fitted yet; call fit\(data\) first"):
        sig.format()
    with pytest.raises(AttributeError):  # scikit-learn's bases: code catching AttributeError still works
        sig.to_dict()
    sig.fit(values)
    check_is_fitted(sig)
    sk_check_is_fitted(sig)
    assert "n_peaks" in sig.format()
    pers = SuperlevelPersistence()
    with pytest.raises(NotFittedError):
        pers.summary()
    assert pers.fit(values).summary()["n_peaks"] == 1
    pca = TrajectoryPCA(n_components=2)
    with pytest.raises(NotFittedError, match=r"call fit\(codes\)"):
        pca.axes([1])
    rng = np.random.default_rng(0)
    assert pca.fit(rng.normal(size=(4, 5, 6))).axes([1, 2]).shape == (2, 6)


def test_check_is_fitted_names_attributes():
    class Thing(Estimator):
        def __init__(self, a: int = 1) -> None:
            self.a = a

    t = Thing()
    t.other_ = 1
    check_is_fitted(t)
    with pytest.raises(NotFittedError, match="call fit"):
        check_is_fitted(t, ["result_"])
    t.result_ = 2
    check_is_fitted(t, "result_")
