"""HDF5 files of traces: the only code in isingneuron that writes files.

Like emcee's backend, the recorder knows nothing of physics: it stores and
reads back :class:`isingneuron.Traces`, bit for bit, with provenance. One
process writes a file; workers return arrays.

File layout (schema_version 2), readable with plain h5py::

    /                       attrs: format = "isingneuron", schema_version = 2,
                                   package_version, created (ISO 8601, UTC),
                                   config (YAML text, if given),
                                   git_commit (if known), caller's file attrs
    /points/<name>          one group per run / sweep point, attrs:
        complete            False until finalised; True only once the data
                            are on disk
        error               text, only on a point marked failed
        params              JSON text of the point's parameter values ("{}")
        traces_attrs        JSON text of Traces.attrs (read back exactly)
        <key>               a copy of each scalar (str, int, float, bool) of
                            Traces.attrs / the caller's attrs, e.g. seed, L
        units               "J" unless the attrs give one
        package_version, git_commit   of the code that wrote the point
      t          (n,)          int64    sweeps completed at each record
      T          (n,) or (R, n) float64 bath temperature (J); (n,) when every
                                        replica shares it
      M, B       (R, n)        int32    exact records (int64 for L > 32767): total
                                        magnetisation sum_i s_i and bond sum
                                        sum_<ij> s_i s_j (border bonds included);
                                        M has attrs n_spins (N) and field (h, J):
                                        m = M / N, energy/spin = -(B + h M) / N
      m, energy  (R, n)        float64  instead of M and B, for traces given as
                                        floats, and in schema_version 1 files
      snapshot_t (n_snap,)     int64    optional
      snapshots  (n_snap, R, L, L) int8 optional lattice snapshots
      spins      (R, L, L)     int8     optional final lattice

Datasets are chunked, gzip-compressed with shuffle and carry a Fletcher-32
checksum per chunk, so a damaged chunk is detected (a :class:`RecorderError`
naming the point), never read as data.

Crash consistency
-----------------
HDF5 gives no crash consistency to a file whose metadata is rewritten in
place, so the file ``out.h5`` itself is never opened for writing. While a
:class:`Recorder` is open it keeps a *journal*, the folder ``out.h5.journal``
beside the file:

* each point is written to its own HDF5 file ``<key>.writing.h5`` (appended
  chunk by chunk, flushed after each chunk);
* when the point is finalised (or marked failed) that file is flushed,
  fsync'ed and renamed to ``<key>.h5`` (an atomic step: the point is then
  safe whatever happens next);
* when the recorder closes (and when a writer opens a file whose journal a
  crash left behind) the finished points are *consolidated*: a new file is
  written beside the old one with every point, fsync'ed, and renamed over
  ``out.h5`` (atomic), then the merged journal files are removed.

A kill at any instant therefore loses at most the point being written: an
interrupted ``.writing.h5`` file or half-written new file is discarded at the
next open, and every finished point is either in ``out.h5`` or in the journal.
The readers of this module (:func:`read_point`, :func:`file_status`, ...)
merge the journal, so they see points finished by a run that is still going
(or was killed); a plain h5py reader sees ``out.h5``, which holds every point
of the runs that closed. The journal also holds the writer's lock (``lock``,
with its pid and host): a second writer is refused with a message naming the
process, while readers never wait.

Safety rules
------------
* A file is validated (exists in an existing folder, is HDF5, has
  ``format = "isingneuron"``, ``schema_version <= 2``; version 1 files, with
  ``T``, ``m`` and ``energy`` as float64 (R, n), are read and extended) before anything is
  written; a refused file is left untouched. Mode ``"w"`` only replaces an
  isingneuron file, ``"x"`` never replaces anything, and ``"a"`` refuses a
  ``config_text`` that differs from the one stored.
* A point that is not complete (a run killed mid-way, or marked failed) is
  rewritten from scratch when opened again; a complete point is replaced only
  with ``overwrite=True``.
* Problems are reported as :class:`RecorderError` naming the path.
* :func:`verify_file` reads every dataset of every point and reports the
  damaged ones; :func:`salvage_file` copies the intact points to a new file.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import socket
import subprocess
import time
from datetime import datetime, timezone
from functools import lru_cache, wraps
from pathlib import Path

import h5py
import numpy as np

from ._version import __version__
from .traces import Traces

__all__ = ["FORMAT", "SCHEMA_VERSION", "RecorderError", "Recorder", "PointWriter", "read_point",
           "point_info", "list_points", "file_status", "read_config_text", "verify_file",
           "salvage_file", "journal_path", "progress_path", "ProgressWriter"]

FORMAT = "isingneuron"
SCHEMA_VERSION = 2
_FILE_KEYS = {"format", "schema_version", "package_version", "created", "config", "git_commit"}
_POINT_KEYS = {"complete", "error", "params", "traces_attrs", "package_version", "git_commit"}
_LIBVER = ("v108", "latest")     # dense attribute storage: no 64 KiB limit on config text


class RecorderError(ValueError):
    """A file or point cannot be used (the message names the path and the problem)."""


class DamagedPointError(RecorderError):
    """A point's data fail their checksum or cannot be read; ``what`` says which."""

    def __init__(self, message, what):
        super().__init__(message)
        self.what = what


class _StaleView(Exception):
    """A journal file listed by a :class:`_View` was renamed or merged away by the
    writer before it was read: the view is out of date, not the file damaged."""


#: views a reader makes before it gives up on a file that keeps changing
_VIEW_ATTEMPTS = 8


def _fresh_view(fn):
    """Run a reader of ``_View`` again with a new view when its view went stale.

    A run that finishes a point renames its journal file, and one that ends
    merges the journal into a new file and removes the journal files; a reader
    that listed the journal just before reads the new state on its next try.
    """
    @wraps(fn)
    def reader(*args, **kwargs):
        for attempt in range(_VIEW_ATTEMPTS):
            try:
                return fn(*args, **kwargs)
            except _StaleView as exc:
                last = exc
                time.sleep(0.02 * (attempt + 1))
        raise RecorderError(f"{last}; the file kept changing while it was read "
                            f"({_VIEW_ATTEMPTS} tries): try again") from None
    return reader


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


def write_problem(path) -> str | None:
    """Why this process cannot write the file ``path`` (an existing folder), or None.

    A writer makes the file's journal beside it and swaps a new file in, so it
    needs to write to the folder; a read-only file is not replaced (its mode
    would be lost).
    """
    p = Path(path)
    if not os.access(p.parent, os.W_OK | os.X_OK):
        return (f"folder {p.parent} is not writable (a run writes the file and its journal "
                f"{p.name}.journal there)")
    if p.exists() and not os.access(p, os.W_OK):
        return "the file is read-only (make it writable, e.g. chmod u+w, or name another file)"
    return None


def _check_path(path, mode) -> Path:
    """Check ``path`` for ``mode`` ('a', 'w', 'x' or 'r') without writing anything."""
    p = Path(path)
    if not p.parent.is_dir():
        raise RecorderError(f"{p}: folder {p.parent} does not exist")
    if p.is_dir():
        raise RecorderError(f"{p}: is a folder, not a file")
    exists = p.exists()
    if not exists and mode == "r":
        raise RecorderError(f"{p}: no such file")
    if exists and mode == "x":
        raise RecorderError(f"{p}: file exists and mode 'x' never replaces a file "
                            "(use mode 'a' to add points or 'w' to start again)")
    problem = write_problem(p) if mode != "r" else None
    if problem:
        raise RecorderError(f"{p}: {problem}")
    if not exists:
        return p
    try:
        is_h5 = h5py.is_hdf5(p)
    except OSError as exc:
        raise RecorderError(f"{p}: cannot be read: {exc}") from None
    if not is_h5:
        raise RecorderError(f"{p}: not an HDF5 file (empty, corrupt or another format)"
                            + ("" if mode == "r" else "; move it away or choose another path"))
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


# ---------------------------------------------------------------- file system
# Every file the recorder writes is opened by _h5_open, and every rename and
# removal goes through _replace and _remove: one place each, so that a test can
# inject a crash at any write (tests/test_crash.py).
def _h5_open(path, mode):
    """An HDF5 file opened for writing ('w' or 'x') with the recorder's settings.

    HDF5's own file locking is off for these files: they are private to the
    writer, which holds the journal's lock, and readers of a point still being
    written (``file_status`` while a run goes on) must not be refused.
    """
    return h5py.File(path, mode, libver=_LIBVER, locking=False)


def _replace(src, dst):
    """Rename ``src`` over ``dst`` (atomic on POSIX) and make the rename durable."""
    os.replace(src, dst)
    _fsync_dir(Path(dst).parent)


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _fsync_file(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder):
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def journal_path(path) -> Path:
    """The journal folder of ``path``: ``<path>.journal`` (see the module docstring)."""
    p = Path(path)
    return p.with_name(p.name + ".journal")


def progress_path(path, name) -> Path:
    """Where the progress of point ``name`` of file ``path`` is kept while it runs.

    A small JSON file in the journal (``{"name", "t", ...}``), written by the
    point's writer or by the worker computing it; :func:`file_status` reports
    it under ``running`` while a writer holds the file.
    """
    return journal_path(path) / (_key(name) + _PROGRESS)


def _write_progress(path, progress: dict):
    """Replace the progress file ``path`` by the JSON of ``progress`` (one rename)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(progress))
    os.replace(tmp, path)


class ProgressWriter:
    """A Simulation writer that keeps the progress file of one point up to date.

    For a point computed away from the recorder (a sweep's worker): each chunk
    records the sweeps done in :func:`progress_path`, so that ``isingneuron
    status`` shows how far the point has got. Best effort: any file-system
    error turns it off (e.g. a Dask worker on a machine without the output's
    folder); :meth:`finalise` removes the file.
    """

    def __init__(self, output, name, n_sweeps):
        self.path = progress_path(output, name)
        self.name, self.n_sweeps = name, int(n_sweeps)
        self.ok = self.path.parent.is_dir()

    def append(self, traces):
        if not self.ok or not len(traces.t):
            return
        try:
            _write_progress(self.path, {"name": self.name, "t": int(traces.t[-1]),
                                        "n_sweeps": self.n_sweeps, "pid": os.getpid()})
        except OSError:
            self.ok = False

    def finalise(self, spins=None):
        try:
            self.path.unlink()
        except OSError:
            pass


def _key(name: str) -> str:
    """File-name-safe key of a point name (its names may be any string without '/')."""
    return hashlib.sha256(name.encode()).hexdigest()[:32]


_WRITING = ".writing.h5"
_FINISHED = ".h5"
_PROGRESS = ".progress.json"
_CONSOLIDATING = "consolidating.h5"
_LOCK = "lock"


def _lock_holder(jdir) -> str | None:
    """'pid N on HOST' of the process writing through ``jdir``, or None if nobody is."""
    try:
        fd = os.open(jdir / _LOCK, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return os.pread(fd, 256, 0).decode(errors="replace").strip() or "unknown process"
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


class _Lock:
    """The writer's exclusive lock: ``flock`` on ``<journal>/lock``, which names the holder.

    The lock dies with the process. A closing writer removes the lock file; a
    process that opened the file before it was removed sees another inode and
    tries again, so two writers never hold locks on different files.
    """

    def __init__(self, jdir, path):
        self.jdir = jdir
        self.file = jdir / _LOCK
        try:
            jdir.mkdir(exist_ok=True)
        except OSError as exc:
            raise RecorderError(f"{path}: cannot create its journal {jdir}: {exc}") from None
        while True:
            fd = os.open(self.file, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = os.pread(fd, 256, 0).decode(errors="replace").strip()
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise RecorderError(f"{path}: cannot lock {self.file}: {exc}") from None
                raise RecorderError(
                    f"{path}: another isingneuron process ({holder or 'unknown'}) is writing "
                    "this file; wait for it to finish or stop it (readers such as "
                    "`isingneuron status` work meanwhile)") from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.file).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode(), 0)
        self.fd = fd

    def release(self):
        if self.fd is None:
            return
        _remove(self.file)                 # before unlocking: see the class docstring
        try:
            self.jdir.rmdir()              # only if nothing else is left in it
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None


def _open_journal_file(p):
    """The journal file ``p``, open read-only and unlocked; :class:`_StaleView` if the
    writer renamed or merged it away since it was listed."""
    try:
        return h5py.File(p, "r", locking=False)
    except OSError:
        if not p.exists():
            raise _StaleView(f"{p.parent}: {p.name} moved on while the journal was read") \
                from None
        raise


def _journal(jdir, reader=False) -> dict:
    """``{name: {state: path}}`` of the readable point files of a journal.

    state is "finished" (``<key>.h5``: complete, failed or left incomplete by a
    closed recorder) or "writing" (``<key>.writing.h5``: a point being written,
    or interrupted). Unreadable files (a crash mid-write) are left out. For a
    ``reader`` (not the writer), a file gone since the listing raises
    :class:`_StaleView`.
    """
    out = {}
    try:
        entries = sorted(jdir.iterdir())
    except OSError:
        return out
    for entry in entries:
        if entry.name == _CONSOLIDATING or not entry.name.endswith(".h5"):
            continue
        state = "writing" if entry.name.endswith(_WRITING) else "finished"
        try:
            with _open_journal_file(entry) as jf:
                name = _text(jf.attrs["name"])
                jf["point"]
        except _StaleView:
            if reader:
                raise
            continue
        except (OSError, KeyError, ValueError):
            continue
        out.setdefault(name, {})[state] = entry
    return out


def _new_main_attrs():
    return {"format": FORMAT, "schema_version": SCHEMA_VERSION, "package_version": __version__,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}


# ------------------------------------------------------------------ writing
class Recorder:
    """Writer of one isingneuron HDF5 file (a context manager).

    Points are written to the file's journal and merged into the file when the
    recorder closes (see "Crash consistency" in the module docstring): close
    it (or use ``with``) to see them in the file with plain h5py; this
    module's readers see them as soon as they are finalised.

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
        HDF5 filter of the datasets (every dataset also has a Fletcher-32
        checksum).

    Raises
    ------
    RecorderError
        Bad mode, missing folder, existing file in mode "x", a file that is not
        a readable isingneuron file of a known schema, a config mismatch, or
        another process writing the file; nothing is written in that case.
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
        self._filters["fletcher32"] = True
        self._git = _git_commit() if git_commit is None else (git_commit or None)
        self._writers = {}
        self._jdir = journal_path(self.path)
        self._lock = None
        exists = self.path.exists()
        stored = read_config_text(self.path) if exists and mode == "a" else None
        if exists and mode == "a" and config_text is not None and stored is not None \
                and stored != config_text:
            raise RecorderError(f"{self.path}: config_text differs from the config stored "
                                "in the file; use another file, mode 'w' to start again, or "
                                "config_text=None to add points without the check")
        self._lock = _Lock(self._jdir, self.path)
        try:
            self._recover()
            updates = {k: v for k, v in attrs.items()
                       if isinstance(v, (str, bool, int, float, np.number, np.bool_))}
            if exists and mode == "a":
                if config_text is not None and stored is None:
                    updates["config"] = config_text
                if updates or self._finished():
                    self._consolidate(updates)
            else:
                for p in self._finished().values():
                    _remove(p)
                base = _new_main_attrs()
                if config_text is not None:
                    base["config"] = config_text
                if self._git:
                    base["git_commit"] = self._git
                self._consolidate({**base, **updates}, fresh=True)
            self._state = file_status(self.path)["points"]
        except BaseException:
            self._lock.release()
            raise

    # -- journal
    def _recover(self):
        """Discard what a crash left half-done: writing files, progress, a half new file."""
        for entry in list(self._jdir.iterdir()):
            if entry.name == _CONSOLIDATING or entry.name.endswith(_WRITING) \
                    or entry.name.endswith(_PROGRESS) or entry.name.endswith(".tmp"):
                _remove(entry)

    def _finished(self) -> dict:
        return {n: e["finished"] for n, e in _journal(self._jdir).items() if "finished" in e}

    def _consolidate(self, file_attrs=None, fresh=False):
        """Write the file anew with its points and the journal's finished points; swap it in."""
        finished = self._finished()
        tmp = self._jdir / _CONSOLIDATING
        _remove(tmp)
        try:
            new = _h5_open(tmp, "w")
            try:
                pts = new.create_group("points")
                if not fresh:
                    with h5py.File(self.path, "r") as old:
                        for k, v in old.attrs.items():
                            new.attrs[k] = v
                        for name in old.get("points", {}):
                            if name not in finished:
                                old.copy(old["points"][name], pts, name=name)
                for k, v in (file_attrs or {}).items():
                    new.attrs[k] = v
                if finished:     # points written now have this version's layout
                    new.attrs["schema_version"] = SCHEMA_VERSION
                for name, fp in finished.items():
                    with h5py.File(fp, "r") as jf:
                        jf.copy(jf["point"], pts, name=name)
            finally:
                new.close()
            _fsync_file(tmp)
        except OSError as exc:
            _remove(tmp)
            raise RecorderError(f"{self.path}: cannot write the file (its journal "
                                f"{self._jdir} keeps the finished points): {exc}") from None
        _replace(tmp, self.path)
        for fp in finished.values():
            _remove(fp)

    # -- context manager
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def closed(self) -> bool:
        return self._lock is None or self._lock.fd is None

    def close(self):
        """Close every open point (unfinalised ones stay incomplete), merge the journal
        into the file and release the lock."""
        if self.closed:
            return
        try:
            for w in list(self._writers.values()):
                if not w._closed and not w.complete:
                    w._finish()
            self._writers.clear()
            self._consolidate()
        finally:
            self._lock.release()

    def _live(self):
        if self.closed:
            raise RecorderError(f"{self.path}: the recorder is closed")

    def __repr__(self):
        return f"Recorder({str(self.path)!r}, mode={self.mode!r}, " \
               f"{'closed' if self.closed else 'open'})"

    # -- points
    def _name(self, name):
        if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
            raise RecorderError(f"{self.path}: point name {name!r}: must be a non-empty string "
                                "without '/'")
        return name

    def _states(self) -> dict:
        """name -> "done" / "failed" / "incomplete" of every point (kept up to date)."""
        return self._state

    def _drop_open_writer(self, name):
        w = self._writers.pop(name, None)
        if w is not None and not w._closed:
            w._abandon()

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
        self._live()
        name = self._name(name)
        if isinstance(n_replicas, bool) or not isinstance(n_replicas, (int, np.integer)) \
                or n_replicas < 1:
            raise RecorderError(f"{self.path}: point {name!r}: n_replicas = {n_replicas!r}: "
                                "must be an integer >= 1")
        where = f"{self.path}: point {name!r}"
        attrs = _check_attrs(attrs, _POINT_KEYS, f"{where} attrs")
        params_json = _json(dict(params or {}), f"{where} params")
        if self._states().get(name) == "done" and not overwrite:
            raise RecorderError(f"{where} is complete; pass overwrite=True to replace it")
        self._drop_open_writer(name)
        w = self._writers[name] = PointWriter(self, name, int(n_replicas), attrs, params_json)
        self._state[name] = "incomplete"
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
        self._live()
        name = self._name(name)
        if self._states().get(name) == "done":
            raise RecorderError(f"{self.path}: point {name!r} is complete; not marking it failed")
        w = self._writers.pop(name, None)
        if w is None or w._closed:
            w = PointWriter(self, name, None, {}, "{}")
        w._finish(error=str(message))

    def points(self) -> list[str]:
        """Names of every point in the file (sorted)."""
        self._live()
        return sorted(self._states())

    def completed_points(self) -> list[str]:
        """Names of the complete points (sorted)."""
        self._live()
        return sorted(n for n, s in self._states().items() if s == "done")


class PointWriter:
    """Appends the chunks of one run to its journal file; made by :meth:`Recorder.open_point`.

    The point becomes part of the file when it is finalised (or marked
    failed): its journal file is then renamed into place in one atomic step.
    """

    def __init__(self, recorder, name, n_replicas, attrs, params_json):
        self._rec, self.name, self.n_replicas = recorder, name, n_replicas
        self._attrs = dict(attrs)
        self._last_t = None
        self._closed = False
        self.complete = False
        self.n_records = 0          # records written so far
        key = _key(name)
        self._writing = recorder._jdir / (key + _WRITING)
        self._finished_path = recorder._jdir / (key + _FINISHED)
        self._progress = recorder._jdir / (key + _PROGRESS)
        _remove(self._writing)
        try:
            self._f = _h5_open(self._writing, "w")
        except OSError as exc:
            raise RecorderError(f"{recorder.path}: point {name!r}: cannot write "
                                f"{self._writing}: {exc}") from None
        self._f.attrs["name"] = name
        g = self._g = self._f.create_group("point")
        g.attrs["complete"] = False
        g.attrs["params"] = params_json
        g.attrs["package_version"] = __version__
        if recorder._git:
            g.attrs["git_commit"] = recorder._git
        if n_replicas is not None:
            g.create_dataset("t", shape=(0,), maxshape=(None,), dtype=np.int64, chunks=True,
                             **recorder._filters)
            self._write_attrs()     # the record datasets come with the first chunk
        self._f.flush()

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
        the final lattice goes to :meth:`finalise`. The journal file is flushed.
        """
        self._check()
        where = f"{self._rec.path}: point {self.name!r}"
        t = _cast(where, "t", traces.t, np.dtype(np.int64), 1)
        n, R = t.shape[0], self.n_replicas
        arrays = self._record_arrays(where, traces, n)
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
            self._extend(k, a, axis=a.ndim - 1)
        if n:
            self._last_t = int(t[-1])
        self.n_records += n
        if new_attrs:
            merged = {**self._attrs, **new_attrs}
            if merged != self._attrs:
                self._attrs = merged
                self._write_attrs()
        self._f.flush()
        self._write_progress()

    def _record_arrays(self, where, traces, n) -> dict:
        """The chunk's record arrays in the point's layout (fixed by its first chunk).

        Compact traces store the integers ``M`` and ``B`` (with ``n_spins`` and
        ``field`` as attrs of ``M``); others ``m`` and ``energy`` as float64. A
        temperature row shared by every replica is stored once, ``T`` of shape
        ``(n,)``, until a chunk differs between replicas (then ``T`` becomes
        ``(R, n)``).
        """
        g, R = self._g, self.n_replicas
        compact = "M" in g if ("M" in g or "m" in g) else traces.compact
        if compact and not traces.compact:
            raise RecorderError(f"{where}: the point holds exact records (M, B); a chunk of "
                                "floating-point m and energy cannot be added to it")
        if compact:
            dt = np.result_type(traces.M.dtype, traces.B.dtype)
            if "M" in g:
                dt = g["M"].dtype
                stored = (int(g["M"].attrs["n_spins"]), float(g["M"].attrs["field"]))
                if stored != (traces.n_spins, traces.field):
                    raise RecorderError(f"{where}: chunk with n_spins, field = "
                                        f"{traces.n_spins}, {traces.field}; the point has "
                                        f"{stored[0]}, {stored[1]}")
            out = {k: _cast(where, k, getattr(traces, k), np.dtype(dt), 2) for k in ("M", "B")}
        else:
            out = {k: _cast(where, k, getattr(traces, k), np.dtype(np.float64), 2)
                   for k in ("m", "energy")}
        row = traces.T_shared
        if "T" in g and g["T"].ndim == 1 and row is None:
            T2 = _cast(where, "T", traces.T, np.dtype(np.float64), 2)
            if n and np.all(T2 == T2[:1]):
                row = T2[0]
            else:
                self._widen_T()
        if row is not None and ("T" not in g or g["T"].ndim == 1):
            out["T"] = _cast(where, "T", row, np.dtype(np.float64), 1)
            if out["T"].shape != (n,):
                raise RecorderError(f"{where}: Traces.T has shape {out['T'].shape}: expected "
                                    f"({n},) (len(t) records)")
        else:
            out["T"] = _cast(where, "T", traces.T, np.dtype(np.float64), 2)
        for k, a in sorted(out.items(), key=lambda kv: kv[0] != "T"):
            if a.ndim == 2 and a.shape != (R, n):
                raise RecorderError(f"{where}: Traces.{k} has shape {a.shape}: expected "
                                    f"({R}, {n}) (R replicas, len(t) records)")
        if compact and "M" not in g:
            self._extend("M", out["M"][:, :0], axis=1)
            g["M"].attrs["n_spins"] = traces.n_spins
            g["M"].attrs["field"] = traces.field
        return out

    def _widen_T(self):
        """A shared temperature row becomes per replica (a chunk's rows differ)."""
        g = self._g
        row = g["T"][()]
        del g["T"]
        g.create_dataset("T", data=np.broadcast_to(row, (self.n_replicas, row.shape[0])),
                         maxshape=(self.n_replicas, None), chunks=True, **self._rec._filters)

    def _write_progress(self):
        """``<key>.progress.json``: how far the point is, for readers while it runs."""
        _write_progress(self._progress, {"name": self.name, "n_records": self.n_records,
                                         "t": self._last_t})

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

    def _finish(self, error=None):
        """Close the journal file and rename it into place (complete, failed or incomplete)."""
        g = self._g
        if self.n_replicas is not None and "m" not in g and "M" not in g:
            for k in ("T", "m", "energy"):           # no chunk came: empty records
                g.create_dataset(k, shape=(self.n_replicas, 0), maxshape=(self.n_replicas, None),
                                 dtype=np.float64, chunks=True, **self._rec._filters)
        if error is not None:
            self._g.attrs["error"] = error
        self._f.flush()
        self._f.close()
        _fsync_file(self._writing)
        _replace(self._writing, self._finished_path)
        _remove(self._progress)
        self._closed = True
        self._rec._state[self.name] = "failed" if error is not None else "incomplete"

    def _abandon(self):
        """Drop this point's journal file (it is being replaced)."""
        self._f.close()
        _remove(self._writing)
        _remove(self._progress)
        self._closed = True

    def finalise(self, spins=None):
        """Store the final lattice (``(R, L, L)`` int8, optional) and mark the point complete.

        The data are flushed and the journal file renamed into place: from then
        on the point survives any crash.
        """
        self._check()
        if spins is not None:
            where = f"{self._rec.path}: point {self.name!r}"
            spins = _cast(where, "spins", spins, np.dtype(np.int8), 3)
            if spins.shape[0] != self.n_replicas:
                raise RecorderError(f"{where}: spins has shape "
                                    f"{spins.shape}: expected ({self.n_replicas}, L, L)")
            self._g.create_dataset("spins", data=spins, chunks=True, **self._rec._filters)
        self._g.attrs["complete"] = True
        self._finish()
        self.complete = True
        self._rec._state[self.name] = "done"


# ------------------------------------------------------------------ reading
def _stamp(path):
    """What tells one version of a file from the next: (device, inode, mtime, size), or None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size


class _View:
    """``with _View(path) as v``: a validated file and its journal, read-only.

    A point finished in the journal overrides the file's; a point being
    written (or interrupted) shows as incomplete unless the file or the
    journal already holds it complete. A view that a writer overtakes (a
    journal file renamed or merged away, the file replaced by the merged one)
    raises :class:`_StaleView`; the public readers (:func:`_fresh_view`) then
    look again.
    """

    def __init__(self, path):
        self.path = _check_path(path, "r")
        self.jdir = journal_path(self.path)

    def __enter__(self):
        before = _stamp(self.path)
        try:
            self.f = h5py.File(self.path, "r")
        except OSError as exc:
            raise RecorderError(f"{self.path}: cannot be opened (truncated or corrupt?): "
                                f"{exc}") from None
        try:
            main = self.f.get("points")
            self.main = set(main) if main is not None else set()
            self.journal = {}                  # name -> path of the journal file to read
            for name, e in (_journal(self.jdir, True) if self.jdir.is_dir() else {}).items():
                if "writing" in e and not self._complete(name, e.get("finished")):
                    self.journal[name] = e["writing"]
                elif "finished" in e:
                    self.journal[name] = e["finished"]
            if _stamp(self.path) != before:     # a writer swapped in a merged file meanwhile
                raise _StaleView(f"{self.path}: replaced while it was read")
        except BaseException:
            self.f.close()
            raise
        return self

    def _complete(self, name, finished):
        if finished is not None:
            with _open_journal_file(finished) as jf:
                return bool(jf["point"].attrs.get("complete", False))
        return name in self.main and bool(self.f["points"][name].attrs.get("complete", False))

    def __exit__(self, *exc):
        self.f.close()

    def names(self) -> list[str]:
        return sorted(self.main | set(self.journal))

    def state(self, name) -> str:
        """done / incomplete / failed; "damaged" when its attributes cannot be read.

        A point still being written (or interrupted) is incomplete whatever its
        attributes say: it counts only once its journal file is renamed.
        """
        if self.writing(name):
            return "incomplete"
        try:
            g, close = self.open(name)
        except RecorderError:
            return "incomplete" if self.writing(name) else "damaged"
        try:
            return _point_state(g)
        except (OSError, RuntimeError, KeyError, ValueError):
            return "incomplete" if self.writing(name) else "damaged"
        finally:
            close()

    def writing(self, name) -> bool:
        p = self.journal.get(name)
        return p is not None and p.name.endswith(_WRITING)

    def open(self, name):
        """(group, close) of point ``name``."""
        if isinstance(name, str) and name in self.journal:
            p = self.journal[name]
            try:
                jf = _open_journal_file(p)
            except OSError as exc:
                raise RecorderError(f"{self.path}: point {name!r} (journal {p}) cannot be "
                                    f"read: {exc}") from None
            return jf["point"], jf.close
        if isinstance(name, str) and name in self.main:
            return self.f["points"][name], lambda: None
        raise RecorderError(f"{self.path}: no point {name!r} (points: {self.names()})")


def _point_state(g) -> str:
    """done / failed / incomplete from a point group's attributes.

    Every point the recorder writes has ``complete`` and ``params`` from its
    first write on; a group without them has damaged attributes (KeyError).
    """
    a = g.attrs
    if "complete" not in a or "params" not in a:
        raise KeyError("its attributes cannot be read (complete, params)")
    if bool(a["complete"]):
        return "done"
    return "failed" if "error" in a else "incomplete"


_DATASETS = ("t", "T", "m", "energy", "M", "B", "spins", "snapshots", "snapshot_t")


def _read_datasets(path, name, g, keys=_DATASETS) -> dict:
    """Every dataset of a point group, checksums verified; damage -> RecorderError."""
    out = {}
    for k in keys:
        if k not in g:
            out[k] = None
            continue
        try:
            out[k] = g[k][()]
        except (OSError, KeyError, ValueError, RuntimeError) as exc:
            what = f"{k}: {' '.join(str(exc).split())}"
            raise DamagedPointError(f"{path}: point {name!r} is damaged ({what}); `isingneuron "
                                    "salvage` copies the intact points to a new file",
                                    what) from None
    return out


@_fresh_view
def read_point(path, name, *, allow_incomplete=False) -> Traces:
    """Read point ``name`` back as :class:`Traces`, bit for bit, attrs included.

    Parameters
    ----------
    path : str or path-like
    name : str
    allow_incomplete : bool
        Also read a point that was never finalised (killed or failed run);
        refused by default.

    Raises
    ------
    RecorderError
        No such point, an incomplete point (unless allowed), or damaged data
        (a checksum or read error: the message names the point).
    """
    with _View(path) as v:
        g, close = v.open(name)
        try:
            state = v.state(name)
            if state == "damaged":
                raise DamagedPointError(f"{v.path}: point {name!r} is damaged (its attributes "
                                        "cannot be read); `isingneuron salvage` copies the "
                                        "intact points to a new file", "attributes")
            if state != "done" and not allow_incomplete:
                err = g.attrs.get("error")
                why = (f"failed: {_text(err)}" if err is not None
                       else "incomplete (never finalised)")
                raise RecorderError(f"{v.path}: point {name!r} is {why}; pass "
                                    "allow_incomplete=True to read what was written")
            if "t" not in g:
                raise RecorderError(f"{v.path}: point {name!r} holds no data")
            get = _read_datasets(v.path, name, g)
            try:
                attrs = json.loads(_text(g.attrs.get("traces_attrs", "{}")))
            except (ValueError, TypeError) as exc:
                raise DamagedPointError(f"{v.path}: point {name!r} is damaged (traces_attrs: "
                                        f"{exc})", f"traces_attrs: {exc}") from None
            if get["M"] is not None:
                a = g["M"].attrs
                get.update(m=None, energy=None, n_spins=int(a["n_spins"]), field=float(a["field"]))
            else:
                del get["M"], get["B"]
            return Traces(**get, attrs=attrs)
        finally:
            close()


@_fresh_view
def point_info(path, name) -> dict:
    """Attrs of point ``name`` (``params`` decoded), plus ``n_records`` and ``n_replicas``."""
    with _View(path) as v:
        g, close = v.open(name)
        try:
            info = {k: val.item() if isinstance(val, np.generic) else _text(val)
                    for k, val in g.attrs.items()}
            info["params"] = json.loads(info.get("params", "{}"))
            info["complete"] = v.state(name) == "done"
            info["n_records"] = int(g["t"].shape[0]) if "t" in g else 0
            rec = g["M"] if "M" in g else g["m"] if "m" in g else None
            info["n_replicas"] = int(rec.shape[0]) if rec is not None else 0
            return info
        finally:
            close()


@_fresh_view
def list_points(path) -> list[str]:
    """Names of every point in the file (sorted), journal included."""
    with _View(path) as v:
        return v.names()


@_fresh_view
def file_status(path) -> dict:
    """Summary of a file: provenance attrs, stored config and point counts.

    Returns
    -------
    dict
        ``path``, ``schema_version``, ``package_version``, ``created``,
        ``git_commit`` (or None), ``config`` (text or None), ``n_points``,
        ``done``, ``incomplete``, ``failed``, ``damaged`` (counts), ``points``
        (name -> "done" / "incomplete" / "failed" / "damaged": attributes that
        cannot be read; :func:`verify_file` also checks the data), ``writer`` ("pid N on
        HOST" of a process writing the file now, or None) and ``running``
        (name -> how far a point being written or computed now has got: ``t``
        (sweeps done), with ``n_records`` from the writer or ``n_sweeps`` and
        ``pid`` from a sweep's worker).
    """
    with _View(path) as v:
        state = {name: v.state(name) for name in v.names()}
        a = v.f.attrs
        out = {"path": str(v.path), "schema_version": int(a["schema_version"]),
               **{k: _text(a.get(k)) for k in ("package_version", "created", "git_commit",
                                                 "config")},
               "n_points": len(state), "points": state}
        for s in ("done", "incomplete", "failed", "damaged"):
            out[s] = sum(val == s for val in state.values())
        out["writer"] = _lock_holder(v.jdir) if v.jdir.is_dir() else None
        out["running"] = {}
        if out["writer"]:
            for p in sorted(v.jdir.glob("*" + _PROGRESS)):
                try:
                    prog = json.loads(p.read_text())
                    out["running"][prog.pop("name")] = prog
                except (OSError, ValueError, KeyError, TypeError, AttributeError):
                    continue
        return out


@_fresh_view
def read_config_text(path) -> str | None:
    """The ``config`` text stored in the file, or None."""
    with _View(path) as v:
        return _text(v.f.attrs.get("config"))


@_fresh_view
def verify_file(path) -> dict:
    """Read every dataset and attribute of every point; report the damaged ones.

    While a run writes the file, the point it is writing is reported
    "incomplete" without being read (its journal file changes under the
    reader); a point left half-written by a killed run is read like the others.

    Returns
    -------
    dict
        ``path``, ``points`` (name -> "done" / "incomplete" / "failed" /
        "damaged: <what>"), ``damaged`` (names) and ``ok`` (True when no point
        is damaged).

    Raises
    ------
    RecorderError
        The file itself cannot be opened.
    """
    result = {}
    with _View(path) as v:
        live = v.jdir.is_dir() and _lock_holder(v.jdir) is not None
        for name in v.names():
            if live and v.writing(name):    # changing under the reader: not read
                result[name] = "incomplete"
                continue
            try:
                g, close = v.open(name)
            except RecorderError as exc:
                result[name] = f"damaged: {exc}"
                continue
            try:
                state = v.state(name)
                if state == "damaged":
                    _point_state(g)                 # raises: says what is missing
                _read_datasets(v.path, name, g)
                for key in ("traces_attrs", "params"):
                    json.loads(_text(g.attrs.get(key, "{}")))
                result[name] = state
            except DamagedPointError as exc:
                result[name] = f"damaged: {exc.what}"
            except (OSError, RuntimeError, ValueError, TypeError, KeyError) as exc:
                result[name] = f"damaged: {' '.join(str(exc).split())}"
            finally:
                close()
    damaged = sorted(n for n, s in result.items() if s.startswith("damaged"))
    return {"path": str(v.path), "points": result, "damaged": damaged, "ok": not damaged}


@_fresh_view
def salvage_file(path, new_path) -> dict:
    """Copy every intact point of ``path`` (and its journal) to the new file ``new_path``.

    The new file gets the same file attrs (config included); damaged points
    are left out (complete, incomplete and failed intact points are copied).
    ``path`` is only read.

    Returns
    -------
    dict
        ``copied`` and ``damaged`` (point names), ``path`` and ``new_path``.

    Raises
    ------
    RecorderError
        ``new_path`` exists or its folder does not, or ``path`` cannot be opened.
    """
    new = Path(new_path)
    if not new.parent.is_dir():
        raise RecorderError(f"{new}: folder {new.parent} does not exist")
    if new.exists() or journal_path(new).exists():
        raise RecorderError(f"{new}: exists; salvage writes a new file only")
    report = verify_file(path)
    tmp = new.with_name(new.name + ".salvage.tmp")
    _remove(tmp)
    copied = []
    try:
        with _View(path) as v, _h5_open(tmp, "x") as out:
            for k, val in v.f.attrs.items():
                out.attrs[k] = val
            pts = out.create_group("points")
            for name in v.names():
                if report["points"][name].startswith("damaged"):
                    continue
                g, close = v.open(name)
                try:
                    g.file.copy(g, pts, name=name)
                    copied.append(name)
                except (OSError, RuntimeError, KeyError, ValueError) as exc:
                    if name in pts:
                        del pts[name]
                    report["damaged"].append(name)
                    report["points"][name] = f"damaged: {' '.join(str(exc).split())}"
                finally:
                    close()
        _fsync_file(tmp)
    except BaseException:
        _remove(tmp)
        raise
    _replace(tmp, new)
    return {"path": str(report["path"]), "new_path": str(new), "copied": copied,
            "damaged": report["damaged"]}
