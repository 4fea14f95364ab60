"""Lazy imports: ``special = lazy_import("scipy.special")`` imports on first use.

``import isingneuron`` then costs numpy and numba only; scipy (~0.5 s) is
imported by the first function that needs it.
"""
import importlib

__all__ = ["lazy_import"]


class _LazyModule:
    def __init__(self, name):
        self.__dict__["_name"] = name
        self.__dict__["_module"] = None

    def __getattr__(self, attr):
        module = self.__dict__["_module"]
        if module is None:
            module = self.__dict__["_module"] = importlib.import_module(self.__dict__["_name"])
        return getattr(module, attr)

    def __repr__(self):
        return f"<lazy module {self.__dict__['_name']!r}>"


def lazy_import(name):
    """A stand-in for module ``name`` that imports it at its first attribute access."""
    return _LazyModule(name)
