"""A fast parametric detector (Delphes-like, CMS-like by default) and what its output becomes.

:class:`DetectorCard` holds every number, read from a TOML card (``DetectorCard.cms()`` is
the bundled default, ``DetectorCard.bundled("adc")`` the ADC2021 thresholds); :func:`simulate` turns truth particles into a :class:`Reconstruction`
(tracks, ECAL and HCAL cells, electrons, muons, photons, jets, missing pT, H_T);
:func:`event_images`, :func:`adc_objects` and :func:`lepton_trigger` make the seed-004 event
images and the ADC2021 objects of it; :func:`run_detector` does all of it file to file.
It is a parametrization, not a simulation of the detector (no Geant4): see docs/detector.md.
"""

from likely.data.detector.card import BUNDLED_CARDS, DetectorCard
from likely.data.detector.represent import adc_objects, event_images, lepton_trigger
from likely.data.detector.run import REPRESENTATIONS, run_detector
from likely.data.detector.simulate import Reconstruction, simulate

__all__ = ["BUNDLED_CARDS", "REPRESENTATIONS", "DetectorCard", "Reconstruction", "adc_objects", "event_images", "lepton_trigger",
           "run_detector", "simulate"]
