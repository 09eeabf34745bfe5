"""The one save format: every saveable object round-trips bit-identically; hostile folders are refused."""

import hashlib
import importlib
import json
import pickle
import pkgutil

import numpy as np
import pytest
import torch

import likely
from likely._persist import MANIFEST, PICKLES, WEIGHTS, Saveable, load
from likely.autoencoders import (
    Autoencoder,
    CoDAE,
    CoDVAE,
    ConditionalAutoencoder,
    DirichletVAE,
    Langevin,
    NormalizedAutoencoder,
    VariationalAutoencoder,
)
from likely.calo import CaloFlow, EnergyRegressor
from likely.classify import Ensemble, NNClassifier, NNRegressor, TreeClassifier
from likely.density import Flow, FlowMatching
from likely.nn import Trainer
from likely.search import CURTAINsTransport, Decorrelator, FlowMatchingTransport, LatentMap

from calo_toy import tiny_caloflow, toy_showers


def _trainer(epochs=2):
    return Trainer(epochs=epochs, batch_size=128, lr=3e-3, progress=False)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    c = rng.uniform(3, 4, 600).astype("f4")
    X = (rng.normal(size=(600, 3)) + c[:, None]).astype("f4")
    y = (X[:, 0] > c).astype(int)
    return X, c, y


def _density(est, data):
    X, c, _ = data
    est.fit(X, cond=c)
    return est, lambda m: np.concatenate([m.log_prob(X[:50], c[:50]), m.sample(cond=c[:5], random_state=1).ravel()])


def _classifier(est, data):
    X, _, y = data
    return est.fit(X, y), lambda m: m.predict_proba(X[:50])


def _showers(est, _):
    showers, e_inc = toy_showers(300)
    est.fit(showers, e_inc)
    if isinstance(est, EnergyRegressor):
        return est, lambda m: m.predict(showers[:50])
    return est, lambda m: np.concatenate([m.log_prob(showers[:30], e_inc[:30]),
                                          m.sample(e_inc[:3], random_state=2).ravel()])


def _autoencoder(est, data):
    X, c, _ = data
    return est.fit(X, c), lambda m: m.residuals(X[:50], c[:50]).ravel()


def _image_model(est, _):
    """A model of the autoencoder family on small non-negative images: every score and the reconstructions."""
    images = np.random.default_rng(0).gamma(1.0, size=(200, 1, 6, 6)).astype("f4")
    return est.fit(images), lambda m: np.concatenate([*m.scores(images[:20]).values(), m.reconstruct(images[:5]).ravel()])


def _mask_model(est, _):
    """A model of the family that takes images in [0, 1]: the same, on masks."""
    masks = (np.random.default_rng(0).uniform(size=(120, 1, 8, 8)) > 0.7).astype("f4")
    return est.fit(masks), lambda m: np.concatenate([*m.scores(masks[:20]).values(), m.reconstruct(masks[:5]).ravel()])


def _family(cls, **settings):
    return lambda: cls(**settings, trainer=_trainer(), device="cpu", random_state=0)


#: class -> (unfitted instance, fit-and-output function); outputs must agree bit for bit after loading
CASES = {
    Flow: (lambda: Flow(transforms=2, hidden=(16,), trainer=_trainer(), device="cpu", random_state=0), _density),
    FlowMatching: (lambda: FlowMatching(hidden=(16,), trainer=_trainer(), device="cpu", random_state=0), _density),
    TreeClassifier: (lambda: TreeClassifier(max_iter=10, random_state=0), _classifier),
    NNClassifier: (lambda: NNClassifier(hidden=(8,), trainer=_trainer(), device="cpu", random_state=0), _classifier),
    Ensemble: (lambda: Ensemble(NNClassifier(hidden=(8,), trainer=_trainer(), device="cpu"), n_members=2,
                                mode="kfold", random_state=0), _classifier),
    NNRegressor: (lambda: NNRegressor(hidden=(8,), trainer=_trainer(), device="cpu", random_state=0),
                  lambda est, data: (est.fit(data[0], data[1]), lambda m: m.predict(data[0][:50]))),
    CaloFlow: (lambda: tiny_caloflow(epochs=2), _showers),
    EnergyRegressor: (lambda: EnergyRegressor(hidden=(8,), trainer=_trainer(), device="cpu", random_state=0),
                      _showers),
    ConditionalAutoencoder: (lambda: ConditionalAutoencoder(encoder=(8,), latent=2, trainer=_trainer(),
                                                            device="cpu", random_state=0), _autoencoder),
    Autoencoder: (_family(Autoencoder, latent=2, channels=(4,), hidden=(8,), power=0.5, normalize=True), _image_model),
    VariationalAutoencoder: (_family(VariationalAutoencoder, latent=2, channels=(4,), hidden=(8,), output="softplus"),
                             _image_model),
    DirichletVAE: (_family(DirichletVAE, hidden=(8,), power=0.5), _image_model),
    NormalizedAutoencoder: (_family(NormalizedAutoencoder, channels=(4,), hidden=(8,), normalize=True, steps=3,
                                    batch_size=16, latent_chain=Langevin(step=100.0, noise=1e-2, steps=2),
                                    input_chain=Langevin(step=50.0, noise=1e-4, steps=2, anneal=True),
                                    progress=False), _image_model),
    CoDAE: (_family(CoDAE, filters=(4,), mask_filters=(2,), latent_channels=2, groups=2), _mask_model),
    CoDVAE: (_family(CoDVAE, filters=(4,), mask_filters=(2,), latent_channels=2, groups=2), _mask_model),
    Decorrelator: (lambda: Decorrelator(flow=Flow(transforms=2, hidden=(16,), trainer=_trainer(), device="cpu"),
                                        random_state=0),
                   lambda est, data: (est.fit(data[0], data[1]), lambda m: m.transform(data[0][:50], data[1][:50]))),
    LatentMap: (lambda: LatentMap(set_size=5, hidden=(8,), sets_per_model=50, trainer=_trainer(), device="cpu",
                                  random_state=0),
                lambda est, data: (est.fit(data[0], data[2]),
                                   lambda m: np.concatenate([m.transform(data[0][:50]).ravel(),
                                                             m.rank(data[0][:50]).distances]))),
    CURTAINsTransport: (lambda: CURTAINsTransport(network=Flow(kind="coupling", transforms=2, hidden=(8,), bins=4,
                                                               trainer=_trainer(), device="cpu"),
                                                  density=Flow(transforms=2, hidden=(8,), trainer=_trainer(),
                                                               device="cpu"), random_state=0),
                        lambda est, data: (est.fit(data[0], data[1]),
                                           lambda m: m.transport(data[0][:50], data[1][:50], data[1][:50] + 0.2))),
    FlowMatchingTransport: (lambda: FlowMatchingTransport(network=FlowMatching(hidden=(16,), trainer=_trainer(),
                                                                               device="cpu"), random_state=0),
                            lambda est, data: (est.fit(data[0], data[1]),
                                               lambda m: m.transport(data[0][:50], data[1][:50], data[1][:50] + 0.2))),
}
#: saveable classes whose round trip is tested where their (slow or structured) fixtures live
ELSEWHERE = {
    "FluxMutability": "tests/test_flux_mutability.py",
    "ResonantMethod": "tests/test_search_persistence.py (every method)",
    "Detector": "tests/test_detectors.py (check_detector, every registered detector)",
    "CLR": "tests/test_clr.py",
    "SetClassifier": "tests/test_set_classifier.py",
}


def _all_saveable_classes() -> set[type]:
    for module in pkgutil.walk_packages(likely.__path__, "likely."):
        importlib.import_module(module.name)
    found, todo = set(), [Saveable]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    ours = {cls for cls in found if cls.__module__.startswith("likely.") and not cls.__name__.startswith("_")}
    bases = {base for cls in ours for base in cls.__mro__[1:]}
    return ours - bases  # concrete: none of ours derives from it


def test_every_saveable_class_has_a_round_trip_test():
    """A new concrete saveable class must join CASES (or say where its round trip is tested)."""
    covered = lambda cls: cls in CASES or any(base.__name__ in ELSEWHERE for base in cls.__mro__)  # noqa: E731
    missing = sorted(cls.__name__ for cls in _all_saveable_classes() if not covered(cls))
    assert not missing, f"saveable classes without a round-trip test: {missing}"


@pytest.mark.parametrize("cls", list(CASES), ids=lambda cls: cls.__name__)
def test_round_trip_is_bit_identical(cls, data, tmp_path):
    make, fit = CASES[cls]
    fitted, outputs = fit(make(), data)
    fitted.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == sorted(
        [MANIFEST, WEIGHTS] + ([PICKLES] if (tmp_path / "m" / PICKLES).exists() else []))
    loaded = cls.load(tmp_path / "m", device="cpu", trust=True)
    assert type(loaded) is cls and loaded.get_params(deep=False).keys() == fitted.get_params(deep=False).keys()
    np.testing.assert_array_equal(outputs(loaded), outputs(fitted))
    manifest = json.loads((tmp_path / "m" / MANIFEST).read_text())
    assert manifest["class"] == f"{cls.__module__}:{cls.__name__}"
    assert manifest["versions"]["likely"] == likely.__version__


@pytest.fixture
def saved(data, tmp_path):
    flow, _ = _density(CASES[Flow][0](), data)
    return flow.save(tmp_path / "flow")


def test_manifest_cannot_point_outside_its_folder(saved, tmp_path):
    manifest = json.loads((saved / MANIFEST).read_text())
    (tmp_path / "outside.pt").write_bytes((saved / WEIGHTS).read_bytes())
    manifest["files"] = {"../outside.pt": manifest["files"][WEIGHTS], **manifest["files"]}
    (saved / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="'files' must list weights.pt"):
        load(saved)


def test_symlinked_payload_is_refused(saved, tmp_path):
    (tmp_path / "elsewhere.pt").write_bytes((saved / WEIGHTS).read_bytes())
    (saved / WEIGHTS).unlink()
    (saved / WEIGHTS).symlink_to(tmp_path / "elsewhere.pt")
    with pytest.raises(ValueError, match="weights.pt is missing or not a regular file"):
        load(saved)


def test_manifest_cannot_name_a_class_outside_likely(saved):
    manifest = json.loads((saved / MANIFEST).read_text())
    cases = [("os:system", False, "from outside likely; importing its module runs .* only on request"),
             ("os:system", True, "not a saveable likely object"),
             ("builtins:eval", True, "not a saveable likely object"),
             ("likely.density.flow:np", False, "not a class of likely")]
    for name, trust, message in cases:
        (saved / MANIFEST).write_text(json.dumps({**manifest, "class": name}))
        with pytest.raises(ValueError, match=message):
            load(saved, trust=trust)


class _Marker:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def test_pickles_are_not_unpickled_without_trust(saved, tmp_path):
    """A crafted sklearn.pkl (checksum fixed up, as an attacker would) runs no code unless trusted."""
    marker = tmp_path / "code-ran"
    payload = pickle.dumps([_Marker(marker)])
    (saved / PICKLES).write_bytes(payload)
    manifest = json.loads((saved / MANIFEST).read_text())
    manifest["files"][PICKLES] = hashlib.sha256(payload).hexdigest()
    (saved / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="unpickling can execute code"):
        Flow.load(saved)
    assert not marker.exists()


def test_legacy_files_get_a_clear_message(data, tmp_path):
    torch.save({"format": "likely-density/1"}, tmp_path / "flow.pt")
    with pytest.raises(ValueError, match="single file, as likely 0.1 saved models"):
        Flow.load(tmp_path / "flow.pt")
    (tmp_path / "method").mkdir()
    (tmp_path / "method" / "method.json").write_text("{}")
    with pytest.raises(ValueError, match="saved by likely 0.1 .*likely-method/1.*rerun the training"):
        load(tmp_path / "method")


def test_unfitted_and_unsavable_objects_are_refused_before_writing(tmp_path):
    with pytest.raises(ValueError, match="not fitted yet"):
        Flow().save(tmp_path / "unfitted")
    flow = Flow()
    flow.model_, flow.extra_ = torch.nn.Linear(1, 1), object()
    with pytest.raises(TypeError, match=r"cannot save Flow\.extra_: a object"):
        flow.save(tmp_path / "odd")
    assert not (tmp_path / "unfitted").exists() and not (tmp_path / "odd").exists()
