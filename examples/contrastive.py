"""DarkCLR, JetCLR and AnomalyCLR with their baselines on the bundled samples, from the API.

    python examples/contrastive.py              # about three and a half minutes on two CPU cores

Dark jets: a CLR with DarkCLR's loss and the JetCLR ablation learn QCD jets (pT 150–300
GeV, 50 constituents); ‖z‖ and the NAE on z score the Aachen dark jets; a supervised
transformer is the bound. ADC events: AnomCLR⁺ learns W + jets events, seed 003's 5-d
autoencoder scores four signals on z and on the raw objects (AE-Raw). The samples are a few
hundred objects and the networks small: the numbers show the workflow, not the physics
(benchmarks/clr.py makes those, docs/benchmarks.md has them).
"""

from __future__ import annotations

import numpy as np

from likely.autoencoders import Langevin
from likely.classify import SetClassifier
from likely.data.adc import FEATURES, adc_layout
from likely.data.clouds import point_clouds
from likely.data.samples import load_bundled_adc, load_bundled_jets
from likely.detect import RepresentationDetector, anomclr_autoencoder, darkclr_nae
from likely.metrics import auc
from likely.nn import Trainer
from likely.represent import CLR, RawSets, linear_classifier_test

SMALL = dict(dim=32, out_features=64, layers=2, heads=4, feedforward=64, head_hidden=(64,), device="cpu")


def trainer(epochs: int) -> Trainer:
    return Trainer(epochs=epochs, batch_size=128, lr=5e-4, schedule="constant", val_fraction=0.0, patience=None)


def separation(detector, background: np.ndarray, signal: np.ndarray) -> float:
    """AUC of the detector's scores, signal against background."""
    y = np.r_[np.zeros(len(background)), np.ones(len(signal))]
    return auc(y, np.r_[detector.score(background), detector.score(signal)])


def dark_jets() -> None:
    qcd = point_clouds(load_bundled_jets("qcd-150-300"), n=50).values
    dark = point_clouds(load_bundled_jets("aachen"), n=50).values
    train, test_qcd, test_dark = qcd[:350], qcd[350:], dark[250:]
    nae = darkclr_nae(epochs=30, steps=100, chain=Langevin(step=1.0, noise=0.01, steps=10), device="cpu",
                      random_state=0)
    for name, loss in (("DarkCLR", "darkclr"), ("JetCLR", "simclr")):
        clr = CLR(loss=loss, anomaly=None if loss == "simclr" else "auto", trainer=trainer(20), random_state=0,
                  **SMALL).fit(train)
        lct = linear_classifier_test(clr.transform(test_qcd), clr.transform(test_dark))
        scores = {"‖z‖": "norm", "NAE": nae} if name == "DarkCLR" else {"NAE": nae}
        for score, scorer in scores.items():
            detector = RepresentationDetector(representation=clr, prefit=True, scorer=scorer).fit(train)
            print(f"{name} {score:>4}: AUC {separation(detector, test_qcd, test_dark):.3f}   (LCT AUC {lct:.3f})")
    X = np.concatenate([qcd[:350], dark[:250]])
    y = np.r_[np.zeros(350), np.ones(250)]
    classifier = SetClassifier(dim=32, layers=2, feedforward=64, hidden=(64,), trainer=Trainer(epochs=30, lr=5e-4),
                               device="cpu", random_state=0).fit(X, y)
    labels = np.r_[np.zeros(len(test_qcd)), np.ones(len(test_dark))]
    print(f"supervised transformer: AUC {auc(labels, classifier.predict_proba(np.concatenate([test_qcd, test_dark]))):.3f}")


def adc_events() -> None:
    background = np.concatenate([adc_layout(load_bundled_adc(name)) for name in ("wjets", "zjets", "ttbar")])
    background = background[np.random.default_rng(0).permutation(len(background))]
    train, test = background[:450], background[450:]
    representations = {"AE-Raw": RawSets(features=FEATURES),
                       "AnomCLR⁺": CLR(features=FEATURES, loss="anomclr+", trainer=trainer(20), random_state=0,
                                       **SMALL)}
    for name, representation in representations.items():
        detector = RepresentationDetector(representation=representation,
                                          scorer=anomclr_autoencoder(epochs=100, device="cpu", random_state=0))
        detector.fit(train)
        aucs = {signal: separation(detector, test, adc_layout(load_bundled_adc(signal)))
                for signal in ("ato4l", "leptoquark", "h0tautau")}
        print(f"{name:>8}: " + "  ".join(f"{signal} AUC {value:.3f}" for signal, value in aucs.items()))


if __name__ == "__main__":
    dark_jets()
    adc_events()
