"""Replica ranges on threads: the parallel loop of the engine's kernels.

The kernels that run replicas (or word groups) independently are jitted
functions of a range ``r0 .. r1 - 1`` that release the GIL; :func:`on_threads`
runs ``numba.get_num_threads()`` such ranges on Python threads. Results do not
depend on the thread count: each replica has its own random streams.

Why not a ``prange`` loop: Numba compiles a parallel loop as a separate
function that links in (and emits machine code for) everything the loop
body calls, once more. Measured first compilations (one core, 2.6 GHz
Zen 4), prange -> threads: random-sequential 6 -> 3.5 s, Wolff 2.6 -> 1.1 s,
the packed kernel 25.5 -> 18.4 s, and ``checkerboard_replicas`` at small L
25.5 -> 8.8 s (its prange kernel also compiled the row path of large L; a
range kernel per path compiles only the one a run takes). The threads reach
the same speed: 2 threads, 1.9-2.1x one (prange 1.5-2.0x), packed equal.
Only the row-parallel kernel, with barriers inside each sweep, keeps a
``prange``.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

_POOL = [None, None]            # (pid, executor): made again in a forked child
_POOL_LOCK = threading.Lock()


def _pool(size):
    with _POOL_LOCK:
        if _POOL[0] != os.getpid():     # threads do not survive a fork
            _POOL[:] = [os.getpid(), ThreadPoolExecutor(size, thread_name_prefix="isingneuron")]
        return _POOL[1]


def on_threads(kernel, n, args):
    """``kernel(*args, r0, r1)`` over ranges of ``0 .. n - 1``, one range per thread.

    At most ``numba.get_num_threads()`` threads (of the calling thread), each
    a contiguous range, sizes differing by at most one (as a static ``prange``
    schedule); the calling thread runs the first. One thread: a plain call.
    Returns, or raises (an exception of a range, or a KeyboardInterrupt),
    only once every range has ended: no range goes on updating the state
    after an interrupted call, as none did after a ``prange`` loop.
    """
    import numba
    nt = max(1, min(n, numba.get_num_threads()))
    if nt == 1:
        kernel(*args, 0, n)
        return
    edges = [n * t // nt for t in range(nt + 1)]
    pool = _pool(numba.config.NUMBA_NUM_THREADS)
    jobs = [pool.submit(kernel, *args, edges[t], edges[t + 1]) for t in range(1, nt)]
    error = None
    try:
        kernel(*args, edges[0], edges[1])
    except BaseException as e:          # noqa: BLE001 - raised below, after the others
        error = e
    pending = set(jobs)
    while pending:
        try:
            pending = wait(pending)[1]
        except KeyboardInterrupt as e:  # the ranges cannot be stopped: wait for them
            error = error or e
    if error is not None:
        raise error
    for job in jobs:
        job.result()
