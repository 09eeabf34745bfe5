"""Statistics of a bump hunt (NumPy / SciPy / iminuit): the dijet function fit, local
p-values of an excess, and the look-elsewhere correction."""

from likely.stats.dijet import DIJET_PARAMETERS, DijetFit, choose_dijet_fit, dijet_density, fit_dijet
from likely.stats.lookelsewhere import global_pvalue, gross_vitells, upcrossings
from likely.stats.significance import excess_pvalue, p_to_z, z_to_p

__all__ = [
    "DIJET_PARAMETERS",
    "DijetFit",
    "choose_dijet_fit",
    "dijet_density",
    "excess_pvalue",
    "fit_dijet",
    "global_pvalue",
    "gross_vitells",
    "p_to_z",
    "upcrossings",
    "z_to_p",
]
