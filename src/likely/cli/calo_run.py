"""The run directory of ``likely calo train``, read by ``calo sample | score | calibrate | study``."""

from __future__ import annotations

import json
from pathlib import Path

from likely.calo import CaloFlow

__all__ = ["load_calo_run"]


def load_calo_run(run: Path) -> tuple[CaloFlow, float]:
    """The trained CaloFlow and the scorer's lambda (mean E_inc / E_dep of the training showers).

    Raises ``FileNotFoundError`` when ``run`` lacks ``model/`` or ``results.json``.
    """
    model_path, results_path = run / "model", run / "results.json"
    if not model_path.exists() or not results_path.is_file():
        raise FileNotFoundError(f"{run} is not a 'likely calo train' run (needs model/ and results.json)")
    return CaloFlow.load(model_path), float(json.loads(results_path.read_text())["lambda"])
