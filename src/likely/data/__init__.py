"""Event containers, readers and writers of the public formats, generators, bundled samples."""

from likely.data.toy import conditional_gaussian_mixture

__all__ = ["conditional_gaussian_mixture"]
