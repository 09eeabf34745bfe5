"""Saving fitted resonant methods and loading them back: same scores, clear errors."""

import json

import numpy as np
import pytest
import torch

from likely.classify import Ensemble, NNClassifier, TreeClassifier
from likely.cli import main
from likely.cli.search import load_events
from likely.data.lhco import read_lhco
from likely.data.samples import bundled_dijet_paths
from likely.density import Flow, FlowMatching
from likely.nn import Trainer
from likely.search import (
    ANODE, CATHODE, CURTAINs, RANODE, SIGMA, CWoLa, IdealizedAD, ResonantMethod, SkyCURTAINs, Supervised, Window,
    make_search_sample, run_scan,
)
from likely.search.scan_config import ScanConfig
from likely.search.study import METHODS as METHODS_BY_NAME

FEATURES = ["mj1", "delta_mj", "tau21_j1", "tau21_j2"]


def _trainer(epochs=2):
    return Trainer(epochs=epochs, batch_size=512, lr=2e-3, progress=False)


def _flow(seed=0, **kwargs):
    return Flow(transforms=2, hidden=(16, 16), trainer=_trainer(), random_state=seed, **kwargs)


def _trees():
    return Ensemble(TreeClassifier(max_iter=20), n_members=2)


def _network():
    return NNClassifier(hidden=(16,), trainer=_trainer(), device="cpu", random_state=0)


METHODS = {
    "supervised": lambda: Supervised(classifier=_trees(), random_state=0),
    "iad": lambda: IdealizedAD(classifier=_trees(), random_state=0),
    "cwola-nn": lambda: CWoLa(classifier=_network(), random_state=0),
    "cwola-kfold": lambda: CWoLa(classifier=Ensemble(_network(), n_members=2, mode="kfold"), random_state=0),
    "anode": lambda: ANODE(density=_flow(), random_state=0),
    "cathode": lambda: CATHODE(density=_flow(preprocessing="logit"), classifier=_trees(), random_state=0),
    "ranode": lambda: RANODE(density=_flow(), random_state=0),
    "sigma": lambda: SIGMA(density=FlowMatching(hidden=(16, 16), trainer=_trainer(), random_state=0),
                           classifier=_trees(), random_state=0),
    "curtains": lambda: CURTAINs(network=Flow(kind="coupling", transforms=2, hidden=(8, 8), bins=4,
                                              trainer=_trainer()),
                                 density=_flow(), classifier=_trees(), random_state=0),
    "curtains-once": lambda: CURTAINs(train_once=True, network=Flow(kind="coupling", transforms=2, hidden=(8, 8),
                                                                    bins=4, trainer=_trainer()),
                                      density=_flow(), classifier=_trees(), random_state=0),
    "skycurtains": lambda: SkyCURTAINs(network=FlowMatching(hidden=(16, 16), trainer=_trainer()), sideband_width=0.2,
                                       classifier=_trees(), random_state=0),
    "curtains-sinkhorn": lambda: CURTAINs(loss="sinkhorn", network=Flow(kind="coupling", transforms=2, hidden=(8, 8),
                                                                        bins=4, trainer=_trainer(1)),
                                          classifier=_network(), random_state=0),
}


@pytest.fixture(scope="module")
def sample(background, signal):
    return make_search_sample(background[:12_000], signal, 300, random_state=0)


def _fit(method, sample):
    return method.fit(sample.data, background=sample.extra_background, signal=sample.signal)


def _round_trip(method, path):
    method.save(path)
    return ResonantMethod.load(path, device="cpu", trust=True)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_loaded_method_scores_exactly_as_saved(name, sample, tmp_path):
    method = _fit(METHODS[name](), sample)
    loaded = _round_trip(method, tmp_path / name)
    assert type(loaded) is type(method)
    assert loaded.window_ == method.window_ and loaded.features_ == method.features_
    np.testing.assert_array_equal(loaded.score(sample.test), method.score(sample.test))
    assert loaded.get_params().keys() == method.get_params().keys()
    manifest = json.loads((tmp_path / name / "manifest.json").read_text())
    assert manifest["class"].endswith(":" + type(method).__name__) and manifest["params"]["features"] == FEATURES
    assert not hasattr(loaded, "samples_")


def test_prefit_models_stay_shared_and_keep_working(sample, tmp_path):
    """Prefit flows are saved once; the loaded flow is the loaded method's own model and samples alike."""
    sidebands = Window().sidebands(sample.data)
    flow = _flow().fit(sidebands.array(FEATURES), cond=sidebands.column("mjj"))
    model = FlowMatching(hidden=(16, 16), trainer=_trainer(), random_state=0)
    model.fit(sample.data.array(FEATURES), cond=sample.data.column("mjj"))
    methods = {
        "anode": ANODE(density=flow, prefit=True, random_state=0),
        "cathode": CATHODE(density=flow, prefit=True, classifier=_trees(), random_state=0),
        "ranode": RANODE(density=flow, prefit=True, signal_fraction=0.05, random_state=0),
        "sigma": SIGMA(density=model, prefit=True, classifier=_trees(), random_state=0),
        "curtains": CURTAINs(network=Flow(kind="coupling", transforms=2, hidden=(8, 8), bins=4, trainer=_trainer()),
                             density=flow, prefit=True, classifier=_trees(), random_state=0),
    }
    m = np.full(50, 3.5, dtype=np.float32)
    for name, method in methods.items():
        loaded = _round_trip(_fit(method, sample), tmp_path / name)
        np.testing.assert_array_equal(loaded.score(sample.test), method.score(sample.test))
        assert loaded.prefit
        owner = loaded.transport_ if name == "curtains" else loaded  # CURTAINs' q lives in its transport
        assert owner.density is owner.density_, name
    cathode = ResonantMethod.load(tmp_path / "cathode", device="cpu", trust=True)
    np.testing.assert_array_equal(cathode.density_.sample(cond=m, random_state=3), flow.sample(cond=m, random_state=3))
    curtains = CURTAINs.load(tmp_path / "curtains", device="cpu", trust=True)
    X = sidebands.array(FEATURES)[:50]
    np.testing.assert_array_equal(curtains.transport(X, m, m + 0.2), methods["curtains"].transport(X, m, m + 0.2))
    assert not list(tmp_path.glob("*/sklearn.pkl"))  # boosted trees are saved as arrays, not pickled


def test_loaded_method_can_be_refit(sample, tmp_path):
    """The saved hyperparameters rebuild the method: refitting the loaded one repeats the fit."""
    method = _fit(CATHODE(density=_flow(preprocessing="logit"), random_state=0,
                          classifier=Ensemble(TreeClassifier(max_iter=20), n_members=2, random_state=0)), sample)
    loaded = _round_trip(method, tmp_path / "cathode")
    refit = _fit(loaded, sample)
    np.testing.assert_array_equal(refit.score(sample.test), method.score(sample.test))


def test_saving_replaces_a_saved_method_only(sample, tmp_path):
    method = _fit(METHODS["cwola-nn"](), sample)
    method.save(tmp_path / "m")
    method.save(tmp_path / "m")  # replacing a saved method is fine
    (tmp_path / "user").mkdir()
    (tmp_path / "user" / "notes.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="not a saved model"):
        method.save(tmp_path / "user")
    assert (tmp_path / "user" / "notes.txt").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "user"]  # no temporary folders left
    with pytest.raises(ValueError, match="not fitted yet"):
        CWoLa().save(tmp_path / "unfitted")
    assert not (tmp_path / "unfitted").exists()


def test_unsavable_classifier_is_refused_before_writing(sample, tmp_path):
    method = _fit(CWoLa(classifier=Ensemble(TreeClassifier(max_iter=5), n_members=2)), sample)
    method.classifier_.members_[0].estimator_ = object()
    with pytest.raises(TypeError, match=r"classifier_\.members_\[0\]\.estimator_"):
        method.save(tmp_path / "m")
    method = _fit(CWoLa(classifier=TreeClassifier(max_iter=5)), sample)
    method.extra_ = torch.nn.Linear(2, 1)
    with pytest.raises(TypeError, match="cannot save CWoLa.extra_: .* CWoLa has no init_module"):
        method.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_bad_paths_give_clear_errors(sample, tmp_path):
    with pytest.raises(FileNotFoundError, match="no saved model at"):
        ResonantMethod.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a saved model: it has no manifest.json"):
        ResonantMethod.load(tmp_path / "empty")

    path = tmp_path / "m"
    _fit(METHODS["cwola-nn"](), sample).save(path)
    with pytest.raises(ValueError, match="holds a CWoLa, not a CATHODE"):
        CATHODE.load(path)
    weights = (path / "weights.pt").read_bytes()
    (path / "weights.pt").write_bytes(weights[:-10])
    with pytest.raises(ValueError, match=r"weights.pt is corrupted or was changed"):
        ResonantMethod.load(path)
    (path / "weights.pt").unlink()
    with pytest.raises(ValueError, match="incomplete saved model: weights.pt is missing"):
        ResonantMethod.load(path)

    manifest = json.loads((path / "manifest.json").read_text())
    (path / "manifest.json").write_text(json.dumps({**manifest, "format": "likely-model/99"}))
    with pytest.raises(ValueError, match="holds format 'likely-model/99'; this likely .* reads 'likely-model/2'"):
        ResonantMethod.load(path)
    (path / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match="manifest.json is corrupted"):
        ResonantMethod.load(path)

    flow_folder = tmp_path / "flow"
    _flow().fit(sample.data.array(FEATURES), cond=sample.data.column("mjj")).save(flow_folder)
    with pytest.raises(ValueError, match="holds a Flow, not a ResonantMethod"):
        ResonantMethod.load(flow_folder)


def test_weights_load_without_pickle(sample, tmp_path):
    """Everything but scikit-learn's trees loads with torch's weights_only loader."""
    _fit(METHODS["ranode"](), sample).save(tmp_path / "m")
    state = torch.load(tmp_path / "m" / "weights.pt", weights_only=True)
    assert state["__estimator__"]["class"] == "likely.search.methods:RANODE"
    assert not (tmp_path / "m" / "sklearn.pkl").exists()


def test_boosted_trees_load_without_unpickling(sample, tmp_path):
    """The default classifier's trees are plain arrays: the folder loads without trust and scores alike."""
    method = _fit(CWoLa(classifier=TreeClassifier(max_iter=5), random_state=0), sample)
    method.save(tmp_path / "m")
    assert not (tmp_path / "m" / "sklearn.pkl").exists()
    loaded = ResonantMethod.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.score(sample.test), method.score(sample.test))


@pytest.mark.slow
def test_search_run_saves_loadable_models_that_score_new_files(tmp_path):
    """The run directory's model reproduces the run's test scores, and 'search score' applies it to a file."""
    out = tmp_path / "run"
    assert main(["-q", "search", "run", "--toy", "6000", "--method", "cwola", "--inject", "300", "--out", str(out)]) == 0
    (run,) = json.loads((out / "results.json").read_text())["runs"]
    assert run["model"] == "models/cwola_seed0"
    method = ResonantMethod.load(out / run["model"], device="cpu", trust=True)
    background, signal = load_events(toy=6000, n_signal=300)
    test = make_search_sample(background, signal, 300, window=Window(), random_state=0).test
    np.testing.assert_array_equal(method.score(test), np.load(out / "scores.npz")["score_0"])

    data, _ = bundled_dijet_paths()
    scores = tmp_path / "scores.npz"
    assert main(["-q", "search", "score", str(out / run["model"]), "--data", str(data), "--out", str(scores),
                 "--trust"]) == 0
    written = np.load(scores)
    events = read_lhco(data, features=["mjj", *FEATURES], on_invalid="keep")
    assert len(written["score"]) == len(events) and np.array_equal(written["mjj"], events["mjj"])
    finite = np.isfinite(events.array(FEATURES)).all(axis=1)
    np.testing.assert_array_equal(written["score"][finite], method.score(events[finite]))
    assert np.isnan(written["score"][~finite]).all()
    np.testing.assert_array_equal(written["in_sr"], Window().in_sr(events))


def test_search_score_refuses_bad_model_and_existing_output(tmp_path, capsys):
    data, _ = bundled_dijet_paths()
    with pytest.raises(SystemExit):
        main(["-q", "search", "score", str(tmp_path), "--data", str(data), "--out", str(tmp_path / "s.npz")])
    assert "is not a saved model" in capsys.readouterr().err
    (tmp_path / "s.npz").write_text("precious")
    with pytest.raises(SystemExit):
        main(["-q", "search", "score", str(tmp_path), "--data", str(data), "--out", str(tmp_path / "s.npz")])
    assert "--force" in capsys.readouterr().err and (tmp_path / "s.npz").read_text() == "precious"


def test_scan_saves_models_only_when_asked(tmp_path):
    from dask.distributed import Client

    config = ScanConfig.from_mapping({"data": {"toy": 5000}, "methods": ["cwola"], "seeds": 1,
                                      "injection": {"signal": [200]}, "windows": {"sr": [[3.3, 3.7]]}})
    events = load_events(toy=5000, n_signal=200)
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0") as client:
        kept = run_scan(config, *events, tmp_path / "kept", client=client, factory=_fast, progress=False,
                        save_models=True)
        plain = run_scan(config, *events, tmp_path / "plain", client=client, factory=_fast, progress=False)
    (job,) = kept["jobs"]
    assert job["model"] == f"jobs/{job['id']}/model" and "model" not in plain["jobs"][0]
    method = CWoLa.load(tmp_path / "kept" / job["model"], device="cpu", trust=True)
    arrays = np.load(tmp_path / "kept" / "jobs" / job["id"] / "arrays.npz")
    background = make_search_sample(*events, 200, window=Window(), random_state=0).extra_background
    np.testing.assert_array_equal(method.score(background), arrays["background_score"])
    assert not (tmp_path / "plain" / "jobs" / plain["jobs"][0]["id"] / "model").exists()


def _fast(name, seed):
    return METHODS_BY_NAME[name](classifier=TreeClassifier(max_iter=10), random_state=seed)
