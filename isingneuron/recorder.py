"""HDF5 files of traces: the only code in isingneuron that writes files.

Like emcee's backend, the recorder knows nothing of physics: it stores and
reads back :class:`isingneuron.Traces`, bit for bit, with provenance. One
process writes a file; workers return arrays.

File layout (schema_version 1), readable with plain h5py::

    /                       attrs: format = "isingneuron", schema_version = 1,
                                   package_version, created (ISO 8601, UTC),
                                   config (YAML text, if given),
                                   git_commit (if known), caller's file attrs
    /points/<name>          one group per run / sweep point, attrs:
        complete            False until finalised; set True only after the data
                            are flushed
        error               text, only on a point marked failed
        params              JSON text of the point's parameter values ("{}")
        traces_attrs        JSON text of Traces.attrs (read back exactly)
        <key>               a copy of each scalar (str, int, float, bool) of
                            Traces.attrs / the caller's attrs, e.g. seed, L
        units               "J" unless the attrs give one
        package_version, git_commit   of the code that wrote the point
      t          (n,)          int64    sweeps completed at each record
      T, m, energy (R, n)      float64  bath temperature, magnetisation, energy/spin
      snapshot_t (n_snap,)     int64    optional
      snapshots  (n_snap, R, L, L) int8 optional lattice snapshots
      spins      (R, L, L)     int8     optional final lattice

Datasets are chunked (h5py's chunk guess), gzip-compressed with shuffle, and
resizable along records (``maxshape`` None) so chunks of a run are appended as
they arrive; the file is flushed after every append.

Safety rules
------------
* A file is validated (exists in an existing folder, is HDF5, has
  ``format = "isingneuron"``, ``schema_version <= 1``) before anything is
  written; a refused file is left untouched. Mode ``"w"`` only replaces an
  isingneuron file, ``"x"`` never replaces anything, and ``"a"`` refuses a
  ``config_text`` that differs from the one stored.
* A point that is not complete (a run killed mid-way, or marked failed) is
  deleted and rewritten from scratch when opened again; a complete point is
  replaced only with ``overwrite=True``. (HDF5 does not reclaim the space of
  deleted data; ``h5repack`` compacts a file.)
* Problems are reported as :class:`RecorderError` naming the path.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import h5py
import numpy as np

from ._version import __version__
from .traces import Traces

__all__ = ["FORMAT", "SCHEMA_VERSION", "RecorderError", "Recorder", "PointWriter", "read_point",
           "point_info", "list_points", "file_status", "read_config_text"]

FORMAT = "isingneuron"
SCHEMA_VERSION = 1
_FILE_KEYS = {"format", "schema_version", "package_version", "created", "config", "git_commit"}
_POINT_KEYS = {"complete", "error", "params", "traces_attrs", "package_version", "git_commit"}
_LIBVER = ("v108", "latest")     # dense attribute storage: no 64 KiB limit on config text


class RecorderError(ValueError):
    """A file or point cannot be used (the message names the path and the problem)."""


@lru_cache(maxsize=1)
def _git_commit():
    """Commit of the isingneuron source tree, or None (no git, not a checkout, ...)."""
    try:
        out = subprocess.run(["git", "-C", str(Path(__file__).parent), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and len(sha) == 40 else None


# --------------------------------------------------------------- validation
def _text(v):
    return v.decode() if isinstance(v, bytes) else v


def _check_path(path, mode) -> Path:
    """Check ``path`` for ``mode`` ('a', 'w', 'x' or 'r') without writing anything."""
    p = Path(path)
    if not p.parent.is_dir():
        raise RecorderError(f"{p}: folder {p.parent} does not exist")
    if p.is_dir():
        raise RecorderError(f"{p}: is a folder, not a file")
    if not p.exists():
        if mode == "r":
            raise RecorderError(f"{p}: no such file")
        return p
    if mode == "x":
        raise RecorderError(f"{p}: file exists and mode 'x' never replaces a file "
                            "(use mode 'a' to add points or 'w' to start again)")
    try:
        is_h5 = h5py.is_hdf5(p)
    except OSError as exc:
        raise RecorderError(f"{p}: cannot be read: {exc}") from None
    if not is_h5:
        raise RecorderError(f"{p}: not an HDF5 file (empty, corrupt or another format); "
                            "move it away or choose another path")
    try:
        with h5py.File(p, "r") as f:
            fmt, ver = _text(f.attrs.get("format")), f.attrs.get("schema_version")
    except OSError as exc:
        raise RecorderError(f"{p}: HDF5 file cannot be opened (truncated or corrupt?): "
                            f"{exc}") from None
    if fmt != FORMAT:
        raise RecorderError(f"{p}: not an isingneuron file (attribute format = {fmt!r}, "
                            f"expected {FORMAT!r}); refusing to touch it")
    if isinstance(ver, (bool, np.bool_)) or not isinstance(ver, (int, np.integer)) or ver < 1:
        raise RecorderError(f"{p}: schema_version = {ver!r}: expected an integer >= 1")
    if ver > SCHEMA_VERSION:
        raise RecorderError(f"{p}: written with schema_version {int(ver)}; isingneuron "
                            f"{__version__} reads schema_version <= {SCHEMA_VERSION}: upgrade "
                            "isingneuron to read or extend it")
    return p


def _check_attrs(attrs, reserved, where):
    """Return a JSON-checked copy of ``attrs`` (str keys, no reserved names)."""
    attrs = dict(attrs or {})
    for k, v in attrs.items():
        if not isinstance(k, str) or not k or "/" in k:
            raise RecorderError(f"{where}: key {k!r}: keys must be non-empty strings without '/'")
        if k in reserved:
            raise RecorderError(f"{where}: key {k!r} is reserved by the recorder "
                                f"(reserved: {sorted(reserved)})")
    _json(attrs, where)
    return attrs


def _json(obj, where):
    def plain(o):
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        raise TypeError(type(o).__name__)
    try:
        return json.dumps(obj, sort_keys=True, default=plain)
    except (TypeError, ValueError) as exc:
        raise RecorderError(f"{where}: not JSON-serialisable ({exc}): use numbers, strings, "
                            "booleans, lists and dicts") from None


def _write_scalars(node, attrs):
    for k, v in attrs.items():
        if isinstance(v, (str, bool, int, float, np.number, np.bool_)):
            node.attrs[k] = v


def _cast(where, name, a, dtype, ndim):
    """``a`` as ``dtype`` if that keeps every value, with ``ndim`` dimensions."""
    a = np.asarray(a)
    if a.ndim != ndim:
        raise RecorderError(f"{where}: Traces.{name} has shape {a.shape}: expected {ndim} "
                            "dimensions")
    if a.dtype == dtype:
        return a
    if a.dtype.kind not in "iub" + ("f" if dtype.kind == "f" else ""):
        raise RecorderError(f"{where}: Traces.{name} has dtype {a.dtype}: cannot be stored "
                            f"as {dtype}")
    out = a.astype(dtype)
    if not np.array_equal(out, a, equal_nan=a.dtype.kind == "f"):
        raise RecorderError(f"{where}: Traces.{name} has dtype {a.dtype}: cannot be stored "
                            f"as {dtype} without changing values")
    return out


# ------------------------------------------------------------------ writing
class Recorder:
    """Writer of one isingneuron HDF5 file (a context manager).

    Parameters
    ----------
    path : str or path-like
        The file; its folder must exist.
    mode : {"a", "w", "x"}
        "a": add to an existing isingneuron file or create it; "w": create, or
        replace an existing isingneuron file; "x": create, refuse if it exists.
    config_text : str, optional
        The run's configuration (YAML text), stored as the ``config`` attr. In
        mode "a" it must equal the stored one, if any.
    attrs : dict, optional
        Extra file attrs (JSON-able; scalars are stored as HDF5 attrs).
    git_commit : str, False or None
        Commit to record; None looks it up with ``git`` (skipped silently if
        git is missing); False records none.
    compression : {"gzip", "lzf", None}
        HDF5 filter of the datasets.

    Raises
    ------
    RecorderError
        Bad mode, missing folder, existing file in mode "x", a file that is not
        a readable isingneuron file of a known schema, or a config mismatch;
        nothing is written in that case.
    """

    def __init__(self, path, mode="a", config_text=None, attrs=None, *, git_commit=None,
                 compression="gzip"):
        if mode not in ("a", "w", "x"):
            raise RecorderError(f"{path}: mode = {mode!r}: must be 'a', 'w' or 'x'")
        if config_text is not None and not isinstance(config_text, str):
            raise RecorderError(f"{path}: config_text must be a str (YAML text), "
                                f"not {type(config_text).__name__}")
        if compression not in ("gzip", "lzf", None):
            raise RecorderError(f"{path}: compression = {compression!r}: must be 'gzip', "
                                "'lzf' or None")
        attrs = _check_attrs(attrs, _FILE_KEYS, f"{path}: file attrs")
        self.path = _check_path(path, mode)
        self.mode = mode
        self._filters = ({"compression": "gzip", "shuffle": True} if compression == "gzip"
                         else {"compression": compression})
        self._git = _git_commit() if git_commit is None else (git_commit or None)
        self._writers = {}
        exists = self.path.exists()
        if exists and mode == "a":
            stored = read_config_text(self.path)
            if config_text is not None and stored is not None and stored != config_text:
                raise RecorderError(f"{self.path}: config_text differs from the config stored "
                                    "in the file; use another file, mode 'w' to start again, or "
                                    "config_text=None to add points without the check")
            self._file = self._h5("r+")
            if config_text is not None and stored is None:
                self._file.attrs["config"] = config_text
        else:
            self._file = self._h5("w" if mode == "w" else "x")
            a = self._file.attrs
            a["format"], a["schema_version"] = FORMAT, SCHEMA_VERSION
            a["package_version"] = __version__
            a["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
            if config_text is not None:
                a["config"] = config_text
            if self._git:
                a["git_commit"] = self._git
        _write_scalars(self._file, attrs)
        self._file.require_group("points")
        self._file.flush()

    def _h5(self, mode):
        try:
            return h5py.File(self.path, mode, libver=_LIBVER)
        except OSError as exc:
            raise RecorderError(f"{self.path}: cannot open for writing: {exc}") from None

    # -- context manager
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Flush and close the file (unfinalised points stay incomplete)."""
        if self._file.id.valid:
            self._file.flush()
            self._file.close()

    def _live(self):
        if not self._file.id.valid:
            raise RecorderError(f"{self.path}: the recorder is closed")
        return self._file["points"]

    def __repr__(self):
        state = "open" if self._file.id.valid else "closed"
        return f"Recorder({str(self.path)!r}, mode={self.mode!r}, {state})"

    # -- points
    def _name(self, name):
        if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
            raise RecorderError(f"{self.path}: point name {name!r}: must be a non-empty string "
                                "without '/'")
        return name

    def open_point(self, name, n_replicas, attrs=None, *, params=None, overwrite=False):
        """Start writing point ``name``; returns its :class:`PointWriter`.

        Parameters
        ----------
        name : str
            Group name under ``/points`` (no '/').
        n_replicas : int
            Replicas R of every chunk.
        attrs : dict, optional
            Metadata (JSON-able; e.g. L, seed, dynamics), merged with and
            overridden by each chunk's ``Traces.attrs``.
        params : dict, optional
            The point's parameter values, stored as JSON text (``params`` attr).
        overwrite : bool
            Replace a complete point of that name (otherwise refused). An
            incomplete or failed point is always replaced.
        """
        pts = self._live()
        name = self._name(name)
        if isinstance(n_replicas, bool) or not isinstance(n_replicas, (int, np.integer)) \
                or n_replicas < 1:
            raise RecorderError(f"{self.path}: point {name!r}: n_replicas = {n_replicas!r}: "
                                "must be an integer >= 1")
        where = f"{self.path}: point {name!r}"
        attrs = _check_attrs(attrs, _POINT_KEYS, f"{where} attrs")
        params_json = _json(dict(params or {}), f"{where} params")
        if name in pts:
            if bool(pts[name].attrs.get("complete", False)) and not overwrite:
                raise RecorderError(f"{where} is complete; pass overwrite=True to replace it")
            del pts[name]
        if name in self._writers:
            self._writers[name]._closed = True
        g = pts.create_group(name)
        g.attrs["complete"] = False
        g.attrs["params"] = params_json
        g.attrs["package_version"] = __version__
        if self._git:
            g.attrs["git_commit"] = self._git
        R = int(n_replicas)
        g.create_dataset("t", shape=(0,), maxshape=(None,), dtype=np.int64, chunks=True,
                         **self._filters)
        for key in ("T", "m", "energy"):
            g.create_dataset(key, shape=(R, 0), maxshape=(R, None), dtype=np.float64,
                             chunks=True, **self._filters)
        w = self._writers[name] = PointWriter(self, g, R, attrs)
        w._write_attrs()
        self._file.flush()
        return w

    def write_point(self, name, traces, attrs=None, *, params=None, overwrite=False):
        """Write a whole run at once: open, append ``traces``, finalise with ``traces.spins``."""
        w = self.open_point(name, traces.n_replicas, attrs, params=params, overwrite=overwrite)
        w.append(traces)
        w.finalise(traces.spins)

    def mark_failed(self, name, message):
        """Record that point ``name`` failed (``error`` attr; stays incomplete).

        Creates an empty point if none exists; a complete point is refused.
        """
        pts = self._live()
        name = self._name(name)
        if name in pts and bool(pts[name].attrs.get("complete", False)):
            raise RecorderError(f"{self.path}: point {name!r} is complete; not marking it failed")
        g = pts.require_group(name)
        g.attrs["complete"] = False
        g.attrs["error"] = str(message)
        if name in self._writers:
            self._writers[name]._closed = True
        self._file.flush()

    def points(self) -> list[str]:
        """Names of every point in the file (sorted)."""
        return sorted(self._live())

    def completed_points(self) -> list[str]:
        """Names of the complete points (sorted)."""
        pts = self._live()
        return sorted(n for n in pts if bool(pts[n].attrs.get("complete", False)))


class PointWriter:
    """Appends the chunks of one run to ``/points/<name>``; made by :meth:`Recorder.open_point`."""

    def __init__(self, recorder, group, n_replicas, attrs):
        self._rec, self._g, self.n_replicas = recorder, group, n_replicas
        self.name = group.name.rsplit("/", 1)[-1]
        self._attrs = dict(attrs)
        self._last_t = None
        self._closed = False
        self.complete = False
        self.n_records = 0          # records written so far

    def __repr__(self):
        return (f"PointWriter({self.name!r}, R={self.n_replicas}, n_records={self.n_records}, "
                f"complete={self.complete})")

    def _check(self):
        if self._closed or self.complete:
            state = "finalised" if self.complete else "closed (replaced, failed or file closed)"
            raise RecorderError(f"{self._rec.path}: point {self.name!r} is {state}: "
                                "no more writing")
        self._rec._live()

    def _write_attrs(self):
        g = self._g
        g.attrs["traces_attrs"] = _json(self._attrs, f"point {self.name!r} attrs")
        _write_scalars(g, {k: v for k, v in self._attrs.items() if k not in _POINT_KEYS})
        if "units" not in self._attrs:
            g.attrs["units"] = "J"

    def append(self, traces: Traces):
        """Append the records (and snapshots) of ``traces``, the next chunk of the run.

        ``traces.spins`` (the lattice at the end of the chunk) is not stored:
        the final lattice goes to :meth:`finalise`. The file is flushed.
        """
        self._check()
        where = f"{self._rec.path}: point {self.name!r}"
        t = _cast(where, "t", traces.t, np.dtype(np.int64), 1)
        n, R = t.shape[0], self.n_replicas
        arrays = {k: _cast(where, k, getattr(traces, k), np.dtype(np.float64), 2)
                  for k in ("T", "m", "energy")}
        for k, a in arrays.items():
            if a.shape != (R, n):
                raise RecorderError(f"{where}: Traces.{k} has shape {a.shape}: expected "
                                    f"({R}, {n}) (R replicas, len(t) records)")
        if np.any(np.diff(t) <= 0) or (n and self._last_t is not None and t[0] <= self._last_t):
            raise RecorderError(f"{where}: t must increase: chunk t = {t[0]}..{t[-1]} after "
                                f"records up to t = {self._last_t}")
        new_attrs = _check_attrs(traces.attrs, _POINT_KEYS, f"{where} attrs")
        snaps = traces.snapshots
        if snaps is not None and len(snaps):
            if traces.snapshot_t is None:
                raise RecorderError(f"{where}: Traces.snapshots given without snapshot_t")
            snaps = _cast(where, "snapshots", snaps, np.dtype(np.int8), 4)
            st = _cast(where, "snapshot_t", traces.snapshot_t, np.dtype(np.int64), 1)
            if snaps.shape[1] != R or st.shape[0] != snaps.shape[0]:
                raise RecorderError(f"{where}: snapshots {snaps.shape} and snapshot_t "
                                    f"{st.shape}: expected (n_snap, {R}, L, L) and (n_snap,)")
            if "snapshots" in self._g and self._g["snapshots"].shape[1:] != snaps.shape[1:]:
                raise RecorderError(f"{where}: snapshots chunk {snaps.shape} does not match the "
                                    f"stored snapshots {self._g['snapshots'].shape}")
            self._extend("snapshots", snaps, axis=0)
            self._extend("snapshot_t", st, axis=0)
        self._extend("t", t, axis=0)
        for k, a in arrays.items():
            self._extend(k, a, axis=1)
        if n:
            self._last_t = int(t[-1])
        self.n_records += n
        if new_attrs:
            merged = {**self._attrs, **new_attrs}
            if merged != self._attrs:
                self._attrs = merged
                self._write_attrs()
        self._rec._file.flush()

    def _extend(self, key, a, axis):
        g = self._g
        if key not in g:     # snapshots: created at the first chunk that has them
            shape = list(a.shape)
            shape[axis] = 0
            maxshape = list(a.shape)
            maxshape[axis] = None
            g.create_dataset(key, shape=tuple(shape), maxshape=tuple(maxshape), dtype=a.dtype,
                             chunks=True, **self._rec._filters)
        d = g[key]
        n0 = d.shape[axis]
        d.resize(n0 + a.shape[axis], axis=axis)
        index = [slice(None)] * d.ndim
        index[axis] = slice(n0, None)
        d[tuple(index)] = a

    def finalise(self, spins=None):
        """Store the final lattice (``(R, L, L)`` int8, optional) and mark the point complete.

        The data are flushed before ``complete`` is set True, then flushed again.
        """
        self._check()
        if spins is not None:
            where = f"{self._rec.path}: point {self.name!r}"
            spins = _cast(where, "spins", spins, np.dtype(np.int8), 3)
            if spins.shape[0] != self.n_replicas:
                raise RecorderError(f"{where}: spins has shape "
                                    f"{spins.shape}: expected ({self.n_replicas}, L, L)")
            self._g.create_dataset("spins", data=spins, chunks=True, **self._rec._filters)
        self._rec._file.flush()
        self._g.attrs["complete"] = True
        self._rec._file.flush()
        self.complete = True


# ------------------------------------------------------------------ reading
class _Reader:
    """``with _Reader(path) as f``: a validated isingneuron file opened read-only."""

    def __init__(self, path):
        self.path = _check_path(path, "r")

    def __enter__(self):
        try:
            self.f = h5py.File(self.path, "r")
        except OSError as exc:
            raise RecorderError(f"{self.path}: cannot be opened: {exc}") from None
        return self.f

    def __exit__(self, *exc):
        self.f.close()

    def point(self, name):
        pts = self.f.get("points")
        if pts is None or not isinstance(name, str) or name not in pts:
            have = sorted(pts) if pts is not None else []
            raise RecorderError(f"{self.path}: no point {name!r} (points: {have})")
        return pts[name]


def read_point(path, name, *, allow_incomplete=False) -> Traces:
    """Read point ``name`` back as :class:`Traces`, bit for bit, attrs included.

    Parameters
    ----------
    path : str or path-like
    name : str
    allow_incomplete : bool
        Also read a point that was never finalised (killed or failed run);
        refused by default.
    """
    r = _Reader(path)
    with r as f:
        g = r.point(name)
        if not bool(g.attrs.get("complete", False)) and not allow_incomplete:
            err = g.attrs.get("error")
            why = f"failed: {_text(err)}" if err is not None else "incomplete (never finalised)"
            raise RecorderError(f"{r.path}: point {name!r} is {why}; pass allow_incomplete=True "
                                "to read what was written")
        if "t" not in g:
            raise RecorderError(f"{r.path}: point {name!r} holds no data")
        get = {k: (g[k][()] if k in g else None) for k in
               ("t", "T", "m", "energy", "spins", "snapshots", "snapshot_t")}
        return Traces(**get, attrs=json.loads(_text(g.attrs.get("traces_attrs", "{}"))))


def point_info(path, name) -> dict:
    """Attrs of point ``name`` (``params`` decoded), plus ``n_records`` and ``n_replicas``."""
    r = _Reader(path)
    with r as f:
        g = r.point(name)
        info = {k: v.item() if isinstance(v, np.generic) else _text(v)
                for k, v in g.attrs.items()}
        info["params"] = json.loads(info.get("params", "{}"))
        info["complete"] = bool(info.get("complete", False))
        info["n_records"] = int(g["t"].shape[0]) if "t" in g else 0
        info["n_replicas"] = int(g["m"].shape[0]) if "m" in g else 0
        return info


def list_points(path) -> list[str]:
    """Names of every point in the file (sorted)."""
    with _Reader(path) as f:
        return sorted(f.get("points", {}))


def file_status(path) -> dict:
    """Summary of a file: provenance attrs, stored config and point counts.

    Returns
    -------
    dict
        ``path``, ``schema_version``, ``package_version``, ``created``,
        ``git_commit`` (or None), ``config`` (text or None), ``n_points``,
        ``done``, ``incomplete``, ``failed`` (counts) and ``points``
        (name -> "done" / "incomplete" / "failed").
    """
    r = _Reader(path)
    with r as f:
        state = {}
        for name, g in f.get("points", {}).items():
            state[name] = ("done" if bool(g.attrs.get("complete", False))
                           else "failed" if "error" in g.attrs else "incomplete")
        a = f.attrs
        out = {"path": str(r.path), "schema_version": int(a["schema_version"]),
               **{k: _text(a.get(k)) for k in ("package_version", "created", "git_commit",
                                                 "config")},
               "n_points": len(state), "points": state}
        for s in ("done", "incomplete", "failed"):
            out[s] = sum(v == s for v in state.values())
        return out


def read_config_text(path) -> str | None:
    """The ``config`` text stored in the file, or None."""
    with _Reader(path) as f:
        return _text(f.attrs.get("config"))
