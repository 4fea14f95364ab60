"""How much memory a run needs, estimated before anything is allocated.

A lattice run holds its spins (``int8``, one byte a spin, per replica), the
records (exact M and B, ``int32``, and T, per replica per record), optional lattice
snapshots (``int8``), the temperatures of the sweeps it runs (``float64`` per
replica per sweep) and some temporaries. :func:`estimate` adds these up for a
plan, and :func:`check` refuses a plan that cannot fit in the memory this
machine has available, with one line saying how much it needs and how much
there is, before a single array (or file) is made. :data:`MAX_L` is the
largest lattice the kernels can index.

The estimate follows the code (bytes; N = L**2 spins, R replicas, n sweeps
in one engine call, n_rec records, threads = min(Numba threads, R)):

=============================  =========================================================
lattice state                  N R (natural layout) or N G W (blocked checkerboard, the
                               replicas padded to blocks of W)
initial state                  N R, plus 8 bytes a replica (the keys of the random
                               start, which a kernel writes in place), plus the layout
                               copies (``to_split``/``to_blocks``)
temperatures                   8 R n (the (R, n) float64 array an engine call consumes)
                               + 32 n (evaluating a schedule); 16 R n for a Population
kernel arrays                  random-sequential: int32 neighbour table 16 N (L < 512;
                               larger lattices compute the neighbours), and a
                               code array of N + 1 bytes per thread; Wolff: a stack of
                               8 N bytes per thread
records (one engine call)      M and B (int32; int64 for L > 32767) and T (float64,
                               counted per replica though a shared row is kept
                               once): 16 R n_rec, and t, T: 16 n_rec
final spins                    N R (+ the blocked layout's conversion copies)
kept records (Simulation)      16 R n_rec + 16 n_rec over the whole run, and snapshots
                               of N R + 8 bytes each: both twice (the chunks, then the
                               joined copy)
protocol (Population)          ~512 bytes per replica's schedule
=============================  =========================================================
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field

from .traces import record_dtype

__all__ = ["MAX_L", "ResourceError", "Estimate", "available_memory", "format_bytes",
           "estimate", "check", "check_L"]

#: Largest linear size: the kernels index the L**2 sites (and the border slot N of
#: a ``plus`` lattice) with int32, so L**2 must stay below 2**31.
MAX_L = math.isqrt(2**31 - 1)          # 46340

_SCHEDULE_PER_SWEEP = 32               # arange + evaluation temporaries of a schedule (measured 25)
_MEMBER_BYTES = 512                    # one Quench of a Population (measured ~230)
_RS_BATCH = 1024                       # kernels._RS_BATCH
_RS_ARITH_MIN_L = 512                  # kernels._RS_ARITH_MIN_L


class ResourceError(ValueError):
    """A plan needs more memory than this machine has, or sizes the engine cannot index."""


def format_bytes(n) -> str:
    """``7.3 TiB``, ``21.4 GiB``, ``512 B``: binary units, one decimal."""
    n = float(n)
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
    for unit in units:
        if n < 1024 or unit == units[-1]:
            break
        n /= 1024
    if unit == "B":
        return f"{int(n)} B"
    return f"{n:.1f} {unit}" if n < 10000 else f"{n:.1e} {unit}"


# ------------------------------------------------------------------ available
def _meminfo_available():
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f.read(1 << 16).decode("ascii", "replace").splitlines():
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _sysconf_available():
    try:
        pages, size = os.sysconf("SC_AVPHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None
    return pages * size if pages > 0 and size > 0 else None


def _read_int(path):
    try:
        with open(path, "rb") as f:
            text = f.read(64).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def _cgroup_room():
    """Memory left under this process's cgroup limit (v2 or v1), or None."""
    try:
        with open("/proc/self/cgroup", "rb") as f:
            lines = f.read(1 << 16).decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    rooms = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        rel = parts[2].lstrip("/")
        if parts[0] == "0" and parts[1] == "":                  # cgroup v2
            files = ("memory.max", "memory.current")
            roots = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]
        elif "memory" in parts[1].split(","):                   # cgroup v1
            files = ("memory.limit_in_bytes", "memory.usage_in_bytes")
            roots = ["/sys/fs/cgroup/memory"]
        else:
            continue
        for root in roots:
            for d in (os.path.join(root, rel), root):           # inside a namespace: the root
                limit, used = (_read_int(os.path.join(d, f)) for f in files)
                if limit is not None and used is not None and limit < 2**60:
                    rooms.append(max(0, limit - used))
                    break
            else:
                continue
            break
    return min(rooms) if rooms else None


def _rlimit_room():
    try:
        import resource
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return None
    if soft in (resource.RLIM_INFINITY, -1) or soft <= 0:
        return None
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f.read(1 << 16).decode("ascii", "replace").splitlines():
                if line.startswith("VmSize:"):
                    return max(0, soft - int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    return None


_CACHE = {"t": -1.0, "value": None}


def available_memory():
    """Bytes this process can still allocate, or None when it cannot be told.

    The smallest of: ``MemAvailable`` of ``/proc/meminfo`` (else
    ``os.sysconf`` free pages), the room left under a cgroup memory limit and
    under ``RLIMIT_AS``. Read at most once a second.
    """
    now = time.monotonic()
    if now - _CACHE["t"] < 1.0:
        return _CACHE["value"]
    candidates = [v for v in (_meminfo_available() or _sysconf_available(), _cgroup_room(),
                              _rlimit_room()) if v is not None]
    value = min(candidates) if candidates else None
    _CACHE.update(t=now, value=value)
    return value


# ------------------------------------------------------------------- estimate
@dataclass
class Estimate:
    """Peak memory of a plan: ``total`` bytes and its larger ``parts`` (name -> bytes)."""
    total: int
    parts: dict = field(default_factory=dict)

    def describe(self, k=3) -> str:
        """The ``k`` largest parts, e.g. ``lattice state 931.3 GiB, records 12.0 KiB``."""
        top = sorted(((v, n) for n, v in self.parts.items() if v > 0), reverse=True)[:k]
        return ", ".join(f"{n} {format_bytes(v)}" for v, n in top)

    @property
    def largest(self) -> str:
        return max(self.parts, key=self.parts.get) if self.parts else ""


def _threads(threads, R):
    if threads is None:
        numba = sys.modules.get("numba")
        try:
            threads = numba.get_num_threads() if numba is not None else (os.cpu_count() or 1)
        except Exception:                                        # pragma: no cover
            threads = os.cpu_count() or 1
    return max(1, min(int(threads), int(R)))


def estimate(L, replicas, n_sweeps=0, record_every=1, snapshot_every=None, *,
             chunk=None, keep=True, dynamics="metropolis", update="random_sequential",
             initial="random", state_replicas=None, population=False, threads=None,
             held=False) -> Estimate:
    """Peak bytes of a run of ``n_sweeps`` sweeps of ``replicas`` L x L lattices.

    Parameters
    ----------
    L, replicas : int
        Linear size and replicas R (>= 1; any size, no array is made).
    n_sweeps : int
        Sweeps of the run (0: the lattice only).
    record_every, snapshot_every : int, optional
        Record and snapshot strides.
    chunk : int, optional
        Sweeps per engine call (``Simulation`` runs in chunks); None: one call
        for all ``n_sweeps`` (``Lattice.run``, ``simulate``), whose
        temperature array is ``(R, n_sweeps)``.
    keep : bool
        With ``chunk``: the run's records and snapshots are kept and joined
        (``Simulation.run(keep=True)``).
    dynamics, update : str
        Select the kernel's arrays (``update="checkerboard"`` has no neighbour
        table; Wolff has a cluster stack).
    initial : str or array
        ``"random"`` has the uint64 temporaries of the random start.
    state_replicas : int, optional
        Replicas held in the layout (blocked checkerboard: padded to blocks).
    population : bool
        The protocol is a Population: one schedule object per replica and
        per-replica temperature evaluation.
    threads : int, optional
        Numba threads (default: the current count).
    held : bool
        The lattice (and protocol) exist already: only what the run adds is
        counted.
    """
    N, R = int(L) ** 2, int(replicas)
    n = int(n_sweeps)
    re_ = max(1, int(record_every))
    G = max(R, int(state_replicas or R))
    th = _threads(threads, R)
    parts = {}
    state = N * G
    parts["lattice state"] = state
    random_start = isinstance(initial, str) and initial == "random"
    build = N * R + (2 * N * G if G != R or update == "checkerboard" else 0)
    if random_start:
        build += 8 * R                       # one uint64 key per replica
    parts["initial state"] = build
    if population:
        parts["protocol"] = _MEMBER_BYTES * R
    c = n if chunk is None else min(n, int(chunk))
    c_rec = c // re_
    temps = 8 * R * c * (2 if population else 1) + _SCHEDULE_PER_SWEEP * c if c else 0
    parts["temperatures"] = temps
    if dynamics == "wolff":
        kernel = 8 * N * th
    elif update == "checkerboard":
        kernel = 64 * L * th
    else:
        table = 16 * N if L < _RS_ARITH_MIN_L else 0     # computed neighbours beyond
        kernel = table + (N + 1 + 8 * min(N, _RS_BATCH)) * th
    parts["kernel arrays"] = kernel if c else 0
    # records: M and B (int32; int64 beyond L = 32767), T (counted per replica,
    # though a shared row is stored once) and t
    rec_unit = (2 * record_dtype(L).itemsize + 8) * R + 16
    call_records = rec_unit * c_rec
    final = N * R + (N * G if G != R else 0) if c else 0
    if chunk is not None and snapshot_every:
        final += N * R                          # the chunk's snapshot copy
    kept = 0
    if chunk is not None and keep and n:       # kept chunk by chunk, then joined: twice
        n_rec = n // re_
        parts["records"] = 2 * rec_unit * n_rec
        if snapshot_every:
            parts["snapshots"] = 2 * (N * R + 8) * (n // int(snapshot_every))
        kept = parts["records"] + parts.get("snapshots", 0)
    else:
        parts["records"] = call_records
    adds = (temps + parts["kernel arrays"] + call_records + final + kept) if c else 0
    if held:
        for k in ("lattice state", "initial state", "protocol"):
            parts.pop(k, None)
        return Estimate(total=int(adds), parts=parts)
    run_peak = state + parts.get("protocol", 0) + adds
    build_peak = build + parts.get("protocol", 0)
    return Estimate(total=int(max(run_peak, build_peak)), parts=parts)


_HINTS = {"lattice state": "lower L or replicas",
          "initial state": "lower L or replicas, or start from initial = 'up'",
          "temperatures": "run fewer sweeps per call (Simulation runs in chunks)",
          "kernel arrays": "lower L",
          "records": "raise record_every, or run fewer sweeps or replicas",
          "snapshots": "raise snapshot_every or leave it out",
          "protocol": "lower replicas",
          "analysis": "run fewer sweeps"}


def check(what, est: Estimate, available=None, hint=None):
    """Raise :class:`ResourceError` when ``est`` needs more than the available memory.

    ``what`` describes the plan (e.g. ``"simulate: L = 64 with 16 replicas,
    n_sweeps = 800"``); the message is one line: what it needs, its largest
    parts, how much there is and what to change. Does nothing when the
    available memory cannot be told.
    """
    if available is None:
        available = available_memory()
    if available is None or est.total <= available:
        return
    hint = hint or _HINTS.get(est.largest, "")
    raise ResourceError(f"{what} needs {format_bytes(est.total)} of memory ({est.describe()}); "
                        f"this machine has {format_bytes(available)} available"
                        + (f": {hint}" if hint else ""))


def check_L(name, L, est: Estimate | None = None):
    """Refuse a linear size whose L**2 sites do not fit the kernels' int32 indices.

    ``name`` is how the caller calls L (e.g. ``"lattice.L"``); with ``est``
    the message also says how much memory the plan would need, when that is
    more than there is.
    """
    if L <= MAX_L:
        return
    more = ""
    if est is not None:
        avail = available_memory()
        if avail is not None and est.total > avail:
            more = (f"; it would also need {format_bytes(est.total)} of memory, this machine "
                    f"has {format_bytes(avail)} available")
    raise ResourceError(f"{name} = {L}: at most {MAX_L} (the kernels index the L**2 sites with "
                        f"int32, so L**2 must be < 2**31){more}")
