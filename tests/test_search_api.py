"""Adding a method (docs/search.md's example, run as written), the registry, and the methods' hyperparameter hygiene."""

import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

from likely._checks import parameter_constraints, validate_params
from likely.classify import TreeClassifier
from likely.cli import main
from likely.data import resonant_toy
from likely.density import Flow
from likely.nn import Trainer
from likely.search import (
    CATHODE, CURTAINs, METHODS, SIGMA, ClassifyAgainstSamples, CWoLa, ResonantMethod, ScanConfig, Window,
    make_method, make_search_sample, register_method, run_scan, run_study,
)
from likely.search.scan import shares_density

DOCS = Path(__file__).resolve().parents[1] / "docs" / "search.md"
#: the built-in methods (the example adds one while its fixture is alive)
BUILTIN = dict(METHODS)
#: one bad value per constrained hyperparameter, and the error it must raise
BAD = {
    "features": ("mj1", TypeError), "classifier": ("trees", TypeError), "n_folds": (1, ValueError),
    "oversampling": (0, ValueError), "density": ("maf", TypeError), "prefit": (1, TypeError),
    "interpolation": ("linear", ValueError), "margin": (-0.1, ValueError), "signal_fraction": (1.0, ValueError),
    "loss": ("l2", ValueError), "network": ("coupling", TypeError), "blur": (0, ValueError),
    "sideband_width": (-1.0, ValueError), "train_once": (1, TypeError), "fitted_transport": (Flow(), TypeError),
}
CONSTRAINED = [(name, param) for name in sorted(BUILTIN) for param in parameter_constraints(type(make_method(name)))]


@pytest.fixture(scope="module")
def example():
    """The code block of docs/search.md's "Adding a method", run as a module of its own (so a saved method loads)."""
    section = DOCS.read_text().split("## Adding a method\n", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    module = types.ModuleType("search_docs_example")
    sys.modules[module.__name__] = module
    exec(compile(code, str(DOCS), "exec"), module.__dict__)  # noqa: S102  (our own documentation)
    yield module
    METHODS.pop("sideband-kde")
    sys.modules.pop(module.__name__)


@pytest.fixture(scope="module")
def events():
    toy = resonant_toy(4000, 1000, random_state=0)
    return toy[toy.label == 0], toy[toy.label == 1]


@pytest.fixture(scope="module")
def sample(events):
    return make_search_sample(*events, 200, random_state=0)


def _trees():
    return TreeClassifier(max_iter=20, random_state=0)


# ------------------------------------------------------------- adding a method
def test_docs_example_fits_scores_saves_and_loads(example, sample, tmp_path):
    method = example.SidebandKDE(classifier=_trees(), n_folds=3, random_state=0).fit(sample.data, Window())
    score = method.score(sample.test)
    assert score.shape == (len(sample.test),) and np.isfinite(score).all()
    n_sr = len(Window().signal_region(sample.data))
    assert 0.8 * 4 * n_sr < len(method.samples_) <= 4 * n_sr  # oversampling=4, less the KDE's leak past the SR
    assert method.data_scores_.shape == (len(sample.data),)
    again = clone(method).fit(sample.data, Window())
    np.testing.assert_array_equal(again.score(sample.test), score)

    method.save(tmp_path / "kde")
    with pytest.raises(ValueError, match="outside likely.*trust=True"):
        ResonantMethod.load(tmp_path / "kde")
    loaded = ResonantMethod.load(tmp_path / "kde", device="cpu", trust=True)
    assert type(loaded) is example.SidebandKDE and not hasattr(loaded, "samples_")
    np.testing.assert_array_equal(loaded.score(sample.test), score)


def test_registered_example_runs_in_studies_the_command_and_scans(example, events, tmp_path):
    made = make_method("sideband-kde", random_state=3)
    assert type(made) is example.SidebandKDE and made.random_state == 3

    study = run_study(*events, ["sideband-kde"], 200, progress=False)
    assert [run["method"] for run in study["runs"]] == ["sideband-kde"] and 0 <= study["runs"][0]["auc"] <= 1

    out = tmp_path / "run"
    assert main(["-q", "search", "run", "--toy", "3000", "--inject", "200", "--method", "sideband-kde",
                 "--out", str(out)]) == 0
    run = json.loads((out / "results.json").read_text())["runs"][0]
    assert run["method"] == "sideband-kde"
    assert type(ResonantMethod.load(out / run["model"], device="cpu", trust=True)) is example.SidebandKDE

    from dask.distributed import Client

    config = ScanConfig.from_mapping({"data": {"toy": 4000}, "methods": ["sideband-kde"], "seeds": 1,
                                      "injection": {"signal": [200]}, "windows": {"sr": [[3.3, 3.7]]}})
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0") as client:
        results = run_scan(config, *events, tmp_path / "scan", client=client, progress=False)
    assert [job["method"] for job in results["jobs"]] == ["sideband-kde"] and not results["failed"]


class _Wrong(ClassifyAgainstSamples):
    """Returns ``shape`` samples whatever it is asked for."""

    shape = (0, 0)

    def fit_background(self, events):
        pass

    def sample_background(self, m):
        return np.zeros(self.shape)


@pytest.mark.parametrize(("shape", "message"), [
    (lambda n: (n, 1), r"_Wrong.sample_background\(m\) has 1 features, but 4 were expected"),
    (lambda n: (n - 1, 4), r"_Wrong.sample_background\(m\) returned \d+ rows for \d+ masses"),
])
def test_sample_background_is_checked(sample, monkeypatch, shape, message):
    monkeypatch.setattr(_Wrong, "sample_background", lambda self, m: np.zeros(shape(len(m))))
    with pytest.raises(ValueError, match=message):
        _Wrong(classifier=_trees()).fit(sample.data)


def test_the_base_class_asks_for_its_hooks(sample):
    with pytest.raises(NotImplementedError, match="must implement fit_background"):
        ClassifyAgainstSamples().fit(sample.data)


# ------------------------------------------------------------------- registry
def test_register_method_refuses_bad_names_factories_and_silent_replacement():
    with pytest.raises(ValueError, match="name must be lowercase"):
        register_method("Sideband KDE", CWoLa)
    with pytest.raises(TypeError, match="factory must be callable"):
        register_method("nothing", None)
    with pytest.raises(ValueError, match="'cathode' is registered already; pass replace=True"):
        register_method("cathode", CWoLa)
    register_method("not-a-method", lambda random_state: "CWoLa")
    try:
        with pytest.raises(TypeError, match="'not-a-method' returned a str, not a ResonantMethod"):
            make_method("not-a-method")
        register_method("not-a-method", CWoLa, replace=True)
        assert isinstance(make_method("not-a-method"), CWoLa)
    finally:
        METHODS.pop("not-a-method")
    with pytest.raises(ValueError, match="unknown method 'not-a-method'"):
        make_method("not-a-method")


def test_scans_share_the_densities_methods_declare_window_independent(sample):
    assert shares_density(SIGMA()) and not shares_density(CATHODE()) and not shares_density(CWoLa())
    assert shares_density(CURTAINs(train_once=True)) and not shares_density(CURTAINs())

    class AllData(CATHODE):
        window_independent_density = True

    no_sidebands = Window(0.0, 100.0)
    tiny = Flow(transforms=1, hidden=(8,), trainer=Trainer(epochs=1, progress=False), random_state=0)
    with pytest.raises(ValueError, match="no events in the sidebands"):
        CATHODE(density=tiny).fit_density(sample.data, no_sidebands)
    density = AllData(density=tiny).fit_density(sample.data, no_sidebands)
    assert shares_density(AllData()) and density.n_features_in_ == 4 and density is not tiny


# ------------------------------------------------------------------- hygiene
@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_params_round_trip_through_clone_and_set_params(name):
    method = make_method(name, random_state=3)
    params = method.get_params(deep=False)
    assert clone(method).get_params(deep=False) == params
    assert type(method)().set_params(**params).get_params(deep=False) == params
    validate_params(method)  # the defaults satisfy the declared constraints
    if "classifier" in params:
        nested = clone(method.set_params(classifier=TreeClassifier(max_iter=3)))
        assert nested.get_params()["classifier__max_iter"] == 3
        assert nested.set_params(classifier__max_iter=7).classifier.max_iter == 7
    with pytest.raises(TypeError, match="positional"):
        type(method)(("mj1",))
    assert "Attributes\n    ----------" in type(method).__doc__


@pytest.mark.parametrize(("name", "param"), CONSTRAINED, ids=[f"{n}-{p}" for n, p in CONSTRAINED])
def test_fit_rejects_a_bad_value_of_each_declared_parameter(name, param, sample):
    assert param in BAD, f"give {param!r} a bad value in BAD"
    value, error = BAD[param]
    method = make_method(name).set_params(**{param: value})
    with pytest.raises(error, match=param):
        validate_params(method)
    with pytest.raises(error, match=param):  # checked before anything trains
        method.fit(sample.data, background=sample.extra_background, signal=sample.signal)


@pytest.mark.parametrize(("method", "old"), [(CATHODE, "flow"), (SIGMA, "model"), (CURTAINs, "flow")])
def test_old_names_of_the_density_are_refused(method, old):
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{old}'"):
        method(**{old: None})
