"""Sweep execution: run the points of a config, in parallel, into one HDF5 file.

The pieces, in the order :mod:`isingneuron.cli` wires them::

    config = load_config("configs/activation.yaml")
    plan = make_plan(config)                 # read-only checks of the output file
    with make_executor(config.executor, len(plan.pending)) as ex:
        result = run_plan(plan, ex)          # ONE writer: this process
    rows = summary(plan.path, plan.points, config.analysis)

Identity and seeds
------------------
A point is named in the file by :attr:`isingneuron.config.Point.id` (a hash
of its canonical parameters). Its seed is :func:`point_seed` of the config's
seed and that id, so results depend neither on the order points run in, nor on
the number of workers, nor on the executor. A config without a sweep section
has one point whose seed is the config's seed itself.

Workers and the writer
----------------------
:func:`run_point` is the work of one point: a pure function of plain data
(the point's config as a dict, and a seed) that returns the
:class:`isingneuron.Traces` and the seconds it took. It runs in this process
(one worker), in local processes (``concurrent.futures``, spawn start method,
Numba threads shared out among them) or on a Dask cluster. Only this process
writes the file; a point is marked complete only after its data are flushed,
so a killed run loses no completed point.

Resume
------
The file stores the canonical config text (:func:`isingneuron.config.stored_text`).
Running again on that file skips the complete points and reruns the rest
(incomplete or failed); a different config is refused unless ``force_new``.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import math
import multiprocessing
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .engine import CheckerboardMetropolisWarning
from .config import (Config, ConfigError, Point, config_diff, parse_config, stored_text,
                     validate_config)
from .recorder import (ProgressWriter, Recorder, file_status, point_info, read_config_text,
                       read_point, verify_file, write_problem)
from .simulation import Simulation
from .spikes import dwell_time, integrated_magnetisation, spike_count
from .traces import Traces

__all__ = ["SweepError", "point_seed", "run_point", "Plan", "make_plan", "make_executor",
           "InProcess", "LocalProcesses", "DaskCluster", "RunResult", "run_plan", "summary",
           "format_summary", "status", "cpu_count"]


class SweepError(ValueError):
    """The run cannot start (output file, executor); nothing has been written."""


def cpu_count() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                                  # pragma: no cover - not Linux
        return os.cpu_count() or 1


# ------------------------------------------------------------------ one point
def point_seed(seed: int, point_id: str) -> int:
    """Seed of a sweep point: 63 bits of sha256("isingneuron:<seed>:<point_id>")."""
    digest = hashlib.sha256(f"isingneuron:{int(seed)}:{point_id}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def run_point(config: dict, seed: int, threads: int | None = None,
              name: str | None = None) -> tuple[Traces, float]:
    """Run one point; the work a worker does.

    Parameters
    ----------
    config : dict
        The point's config (``Point.config.model_dump(mode="json")``);
        validated again here.
    seed : int
        The point's seed.
    threads : int, optional
        Numba threads to use (results do not depend on it).
    name : str, optional
        The point's id: when given, its progress (sweeps done) is kept in the
        output's journal for ``isingneuron status`` while it runs.

    Returns
    -------
    (Traces, float)
        The traces of every record (final spins and snapshots included) and
        the seconds the engine ran.
    """
    if threads:
        import numba
        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    cfg = validate_config(config)     # one-line ConfigError (e.g. no longer fits in memory)
    with warnings.catch_warnings():   # the command line warns once, before the run
        warnings.simplefilter("ignore", CheckerboardMetropolisWarning)
        sim = Simulation(cfg.lattice.L, cfg.schedule, dynamics=cfg.dynamics, update=cfg.update,
                         replicas=cfg.replicas, boundary=cfg.lattice.boundary,
                         field=cfg.lattice.field, seed=seed, initial=cfg.initial,
                         record_every=cfg.record_every, snapshot_every=cfg.snapshot_every)
    progress = sim.attach(ProgressWriter(cfg.output, name, cfg.sweeps)) if name else None
    t0 = time.perf_counter()
    try:
        traces = sim.run(cfg.sweeps)
    finally:
        if progress is not None:
            progress.finalise()
    return traces, time.perf_counter() - t0


@dataclass(frozen=True)
class Task:
    """A point ready to send to a worker (plain data only)."""
    point: Point
    seed: int

    @property
    def args(self):
        return self.point.config.model_dump(mode="json"), self.seed, None, self.point.id

    @property
    def flips(self) -> int:
        c = self.point.config
        return c.lattice.L ** 2 * c.replicas * c.sweeps


# ------------------------------------------------------------------------ plan
@dataclass
class Plan:
    """What a run will do: the file, how it is opened, and which points remain."""
    config: Config
    path: Path
    mode: str                      # "x" new file, "a" resume, "w" replace (force_new)
    text: str                      # canonical config stored in the file
    points: list[Point]
    done: list[str]                # ids already complete in the file
    pending: list[Task]


def make_plan(config: Config, force_new: bool = False) -> Plan:
    """Check the output file (reading only) and list the points left to run.

    Raises
    ------
    SweepError
        Missing folder, a folder given as the file, a file holding another
        config (without ``force_new``), or, when there is something to write, a
        folder or a read-only file this process cannot write.
    RecorderError
        The file exists but is not a readable isingneuron file.
    SweepError
        A point of the file is damaged (checksum or read error): nothing is
        resumed on a damaged file; ``isingneuron salvage`` keeps its intact
        points.
    """
    path = Path(config.output)
    if not path.parent.is_dir():
        raise SweepError(f"output {path}: folder {path.parent} does not exist; create it or "
                         "name another output (--output)")
    if path.is_dir():
        raise SweepError(f"output {path}: is a folder; name a file (--output)")
    text = stored_text(config)
    points = config.points()
    done = set()
    mode = "x"
    if path.exists():
        stored = read_config_text(path)          # validates the file (RecorderError)
        if force_new:
            mode = "w"
        elif stored is None:
            raise SweepError(f"output {path}: an isingneuron file with no stored config (not "
                             "written by `isingneuron run`); name another output or pass "
                             "--force-new to replace it")
        elif stored != text:
            raise SweepError(f"output {path} holds another config ({config_diff(stored, text)});"
                             " pass --force-new to start a fresh file there, or name another "
                             "output (--output)")
        else:
            mode = "a"
            report = verify_file(path)               # reads every dataset: checksums
            if report["damaged"]:
                first = report["damaged"][0]
                raise SweepError(f"output {path}: point {first!r} is damaged "
                                 f"({report['points'][first][len('damaged: '):]})"
                                 + (f" and {len(report['damaged']) - 1} more"
                                    if len(report["damaged"]) > 1 else "")
                                 + f"; nothing was run. `isingneuron salvage {path} NEW` copies "
                                 "the intact points to a new file (then run on NEW)")
            done = {n for n, s in report["points"].items() if s == "done"}
    single = config.sweep is None
    pending = [Task(p, p.config.seed if single else point_seed(p.config.seed, p.id))
               for p in points if p.id not in done]
    problem = write_problem(path) if pending or mode == "w" else None   # else nothing to write
    if problem:
        raise SweepError(f"output {path}: {problem}; --output names another file")
    return Plan(config, path, mode, text, points, sorted(done & {p.id for p in points}), pending)


# ------------------------------------------------------------------ executors
class _Stop:
    """Shared flag: set ``stop`` to submit no more points."""
    stop = False


class _Executor:
    """Base of the executors: a context manager with ``results(tasks, flag)``."""

    workers = 1

    def describe(self) -> str:
        raise NotImplementedError

    def results(self, tasks, flag=None):
        """Yield ``(task, (traces, seconds) or None, exception or None)`` per point.

        Points are yielded as they finish; once ``flag.stop`` is set no new
        point starts (those in flight still finish and are yielded).
        """
        raise NotImplementedError

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class InProcess(_Executor):
    """Run points one after the other in this process."""

    def describe(self) -> str:
        return "this process"

    def results(self, tasks, flag=None):
        flag = flag or _Stop()
        for task in tasks:
            if flag.stop:
                return
            try:
                yield task, run_point(*task.args), None
            except Exception as exc:          # a failed point is reported, the rest go on
                yield task, None, exc


class _Windowed(_Executor):
    """Keeps at most ``window`` points in flight; subclasses submit and wait."""

    window = 1

    def _submit(self, task):
        raise NotImplementedError

    def _wait_first(self, futures):
        raise NotImplementedError

    def results(self, tasks, flag=None):
        flag = flag or _Stop()
        queue, inflight = list(tasks), {}
        try:
            while queue or inflight:
                while queue and not flag.stop and len(inflight) < self.window:
                    task = queue.pop(0)
                    try:
                        inflight[self._submit(task)] = task
                    except Exception as exc:     # e.g. a broken pool
                        yield task, None, exc
                if not inflight:
                    return
                for fut in self._wait_first(list(inflight)):
                    task = inflight.pop(fut)
                    try:
                        yield task, fut.result(), None
                    except Exception as exc:
                        yield task, None, exc
        finally:
            for fut in inflight:
                fut.cancel()


def _init_worker(threads, parent):
    import numba
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    _exit_with_parent(parent)


def _exit_with_parent(parent, interval=0.5):
    """End this worker when the process ``parent`` that started it dies (kill -9 included).

    A daemon thread polls the parent pid (passed in, not read here: the parent
    may die before this worker starts); the engine returns to Python between
    chunks of ~10 ms, so the thread gets to run.
    """
    import threading
    if os.getppid() != parent:
        os._exit(1)

    def watch():
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(1)
    threading.Thread(target=watch, name="isingneuron-parent-watch", daemon=True).start()


class LocalProcesses(_Windowed):
    """Run points on ``workers`` local processes (spawned; cores shared among them)."""

    def __init__(self, workers):
        self.workers = self.window = int(workers)
        threads = max(1, cpu_count() // self.workers)
        self._pool = cf.ProcessPoolExecutor(self.workers,
                                            mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_init_worker,
                                            initargs=(threads, os.getpid()))

    def describe(self) -> str:
        return f"{self.workers} local worker processes"

    def _submit(self, task):
        return self._pool.submit(run_point, *task.args)

    def _wait_first(self, futures):
        return cf.wait(futures, return_when=cf.FIRST_COMPLETED).done

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskCluster(_Windowed):
    """Run points on a Dask distributed cluster (its workers need isingneuron installed)."""

    #: seconds to wait for the scheduler before giving up
    connect_timeout = 10

    def __init__(self, address):
        try:
            import distributed
        except ImportError:
            raise SweepError("executor dask needs the optional dependency dask.distributed: "
                             "pip install 'isingneuron[distributed]'") from None
        from .config import dask_address_problem
        problem = dask_address_problem(address)
        if problem:         # a malformed address makes Client() fail noisily: refuse it first
            raise SweepError(f"cannot connect to the Dask scheduler: {problem}")
        try:
            self._client = distributed.Client(address, timeout=self.connect_timeout,
                                              set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SweepError(f"cannot connect to the Dask scheduler at {address!r}: "
                             f"{exc}") from None
        self.address = address
        self._done = distributed.as_completed(loop=self._client.loop)
        self.workers = max(1, sum(self._client.nthreads().values()))
        self.window = 2 * self.workers

    def describe(self) -> str:
        return f"the Dask cluster at {self.address} ({self.workers} worker threads)"

    def _submit(self, task):
        fut = self._client.submit(run_point, *task.args, pure=False,
                                  key=f"isingneuron-point-{task.point.id}-{time.time_ns()}")
        self._done.add(fut)
        return fut

    def _wait_first(self, futures):
        return [next(self._done)]

    def close(self):
        self._client.close()


def make_executor(spec, n_points, workers=None, address=None):
    """The executor for ``n_points`` points.

    Parameters
    ----------
    spec : isingneuron.config.ExecutorSpec
        The config's executor section.
    n_points : int
        Points to run (more workers than points are not started).
    workers, address : optional
        Command-line overrides (``--workers``, ``--dask``).

    Returns
    -------
    InProcess, LocalProcesses or DaskCluster
        One local worker runs in this process.

    Raises
    ------
    SweepError
        Bad worker count, dask missing, no or unreachable scheduler.
    """
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise SweepError(f"--workers = {workers!r}: must be an integer >= 1")
    if address is not None or spec.kind == "dask":
        if workers is not None:
            raise SweepError("--workers applies to local processes; a Dask cluster has its own "
                             "workers")
        address = address or spec.address
        if not address:
            raise SweepError("executor.kind is dask but no scheduler address: set "
                             "executor.address or pass --dask ADDRESS")
        return DaskCluster(address)
    n = min(workers or spec.workers or cpu_count(), max(1, n_points))
    return InProcess() if n == 1 else LocalProcesses(n)


# ------------------------------------------------------------------------- run
@dataclass
class RunResult:
    """What :func:`run_plan` did."""
    completed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: int = 0
    seconds: float = 0.0


def _point_attrs(task, seconds):
    return {"point_id": task.point.id, "label": task.point.label, "seconds": round(seconds, 6),
            "flips_per_ns": task.flips / max(seconds, 1e-9) / 1e9}


class _Heartbeat:
    """Logs a line every ``every`` seconds while points run (for logs, not terminals)."""

    def __init__(self, log, every, total):
        import threading
        self.log, self.every, self.total = log, every, total
        self.done, self.failed, self.flips = 0, 0, 0
        self.t0 = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="isingneuron-heartbeat",
                                        daemon=True)
        if every and every > 0:
            self._thread.start()

    def _run(self):
        while not self._stop.wait(self.every):
            dt = time.perf_counter() - self.t0
            eta = ""
            if self.done:
                eta = f", about {(self.total - self.done) * dt / self.done:.0f} s left"
            self.log(f"... {self.done} of {self.total} points done ({self.failed} failed) after "
                     f"{dt:.0f} s{eta}")

    def stop(self):
        self._stop.set()


def run_plan(plan: Plan, executor, *, progress=True, fail_fast=False, log=None,
             heartbeat=30.0) -> RunResult:
    """Run the pending points of ``plan`` and write each one as it arrives.

    Parameters
    ----------
    plan : Plan
    executor : InProcess, LocalProcesses or DaskCluster
    progress : bool
        Show a tqdm bar over points (ETA, flips/ns); when False, ``log`` gets
        one line per finished point.
    fail_fast : bool
        Stop submitting points after the first failure (points in flight
        finish and are recorded).
    log : callable, optional
        Receives progress lines (default: print to stderr).
    heartbeat : float
        Without a progress bar, also log a line every ``heartbeat`` seconds
        (points done, time left) so that a long point shows the run is alive;
        0 turns it off.

    Returns
    -------
    RunResult
        A failed point is recorded in the file with its error (``mark_failed``)
        and listed in ``failed``; the others go on.
    """
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    out = RunResult(skipped=len(plan.done))
    flag = _Stop()
    bar = None
    if progress and plan.pending:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(plan.pending), unit="point", desc=plan.path.name,
                   dynamic_ncols=True)
    t0, flips = time.perf_counter(), 0
    beat = None
    try:
        with Recorder(plan.path, plan.mode, config_text=plan.text) as rec:
            if bar is None and plan.pending:
                beat = _Heartbeat(log, heartbeat, len(plan.pending))
            for k, (task, res, exc) in enumerate(executor.results(plan.pending, flag), 1):
                pid = task.point.id
                if exc is None:
                    traces, seconds = res
                    rec.write_point(pid, traces, _point_attrs(task, seconds),
                                    params=task.point.params)
                    out.completed.append(pid)
                    flips += task.flips
                    if beat is not None:
                        beat.done += 1
                    line = f"done in {seconds:.2f} s"
                else:
                    msg = f"{type(exc).__name__}: {exc}"
                    rec.mark_failed(pid, msg)
                    out.failed[pid] = msg
                    line = f"FAILED: {msg}"
                    if beat is not None:
                        beat.done += 1
                        beat.failed += 1
                    flag.stop = flag.stop or fail_fast
                rate = flips / max(time.perf_counter() - t0, 1e-9) / 1e9
                if bar is not None:
                    bar.set_postfix(flips_per_ns=f"{rate:.2f}", failed=len(out.failed))
                    bar.update(1)
                else:
                    label = f" {task.point.label}" if task.point.params else ""
                    log(f"[{k}/{len(plan.pending)}] point {pid}{label}: {line}")
    finally:
        if bar is not None:
            bar.close()
        if beat is not None:
            beat.stop()
    out.seconds = time.perf_counter() - t0
    return out


# --------------------------------------------------------------------- results
def summary(path, points, analysis) -> list[dict]:
    """Per-point spike measures of the complete points in ``path``.

    Returns
    -------
    list of dict
        One per complete point, in the order of ``points``: ``id``, ``label``,
        ``L``, ``R``, ``kinetics`` (rule and update order), ``dwell`` and ``dwell_sem`` (sweeps with m >= theta,
        mean and standard error over replicas), ``spikes`` (mean number of
        hysteresis spikes), ``integral`` and ``integral_sem`` (area under m,
        sweeps), ``abs_m`` (mean |m| over the second half of the records).
    """
    done = {n for n, s in file_status(path)["points"].items() if s == "done"}
    a = analysis
    rows = []
    for p in points:
        if p.id not in done:
            continue
        tr = read_point(path, p.id)
        R = tr.n_replicas
        dwell = dwell_time(tr.t, tr.m, a.theta, a.use_abs)
        spikes = spike_count(tr.t, tr.m, a.theta_on, a.theta_off, a.use_abs)
        area = integrated_magnetisation(tr.t, tr.m, use_abs=a.use_abs)

        def sem(x):
            return float(np.std(x, ddof=1) / math.sqrt(R)) if R > 1 else float("nan")
        half = tr.m[:, tr.n_records // 2:]
        c = p.config
        kinetics = c.dynamics + (f" ({c.update})" if c.update else "")
        rows.append({"id": p.id, "label": p.label, "L": c.lattice.L, "R": R, "kinetics": kinetics,
                     "dwell": float(dwell.mean()), "dwell_sem": sem(dwell),
                     "spikes": float(spikes.mean()), "integral": float(area.mean()),
                     "integral_sem": sem(area), "abs_m": float(np.abs(half).mean())})
    return rows


def format_summary(rows, analysis) -> str:
    """A plain-text table of :func:`summary` rows (means over replicas +- standard errors)."""
    theta = format(analysis.theta, "g")
    head = (f"{'point':<16}  {'L':>4} {'R':>4}  {'dynamics (update)':<30}  "
            f"{'dwell m>=' + theta + ' (sweeps)':>22}  "
            f"{'spikes':>6}  {'integral m dt':>17}  {'<|m|>':>6}  parameters")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['id']:<16}  {r['L']:>4} {r['R']:>4}  {r['kinetics']:<30}  "
                     f"{r['dwell']:>12.1f} +- {r['dwell_sem']:<6.1f}  {r['spikes']:>6.2f}  "
                     f"{r['integral']:>7.1f} +- {r['integral_sem']:<6.1f}  {r['abs_m']:>6.3f}  "
                     f"{r['label']}")
    notes = (f"dwell: sweeps with {'|m|' if analysis.use_abs else 'm'} >= {theta}; spikes: "
             f"events from m >= {analysis.theta_on:g} to m < {analysis.theta_off:g}; "
             "<|m|>: second half of the records")
    return "\n".join(lines + [notes])


def status(path, verify=True) -> dict:
    """File summary (:func:`isingneuron.recorder.file_status`) with the sweep's total.

    Adds ``total`` (points of the stored config, or None when the file has no
    readable config), ``errors`` (point id -> error text of failed points) and,
    with ``verify``, ``damaged_points`` (point id -> what fails its checksum or cannot
    be read: every dataset is read, see :func:`isingneuron.recorder.verify_file`;
    such points are not counted as done).
    """
    st = file_status(path)
    st["damaged_points"] = {}
    if verify:
        report = verify_file(path)
        st["damaged_points"] = {n: report["points"][n][len("damaged: "):]
                                for n in report["damaged"]}
        for n in report["damaged"]:
            st["points"][n] = "damaged"
        for s in ("done", "incomplete", "failed", "damaged"):
            st[s] = sum(v == s for v in st["points"].values())
    st["total"] = None
    if st["config"]:
        try:
            cfg = parse_config(st["config"], f"{path} (stored config)", output=str(path))
            st["total"] = len(cfg.points())
        except ConfigError:
            pass
    st["errors"] = {n: point_info(path, n).get("error", "") for n, s in st["points"].items()
                    if s == "failed"}
    return st

