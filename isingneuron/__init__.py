"""isingneuron: a neurone's spike as an Ising phase transition.

See the README for the idea and the two set-up commands.
"""
from ._version import __version__
from .traces import Traces

__all__ = ["__version__", "Traces"]
