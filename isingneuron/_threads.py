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
from concurrent.futures import ThreadPoolExecutor

_POOL = [None, None]            # (pid, executor): made again in a forked child


def on_threads(kernel, n, args):
    """``kernel(*args, r0, r1)`` over ranges of ``0 .. n - 1``, one range per thread.

    At most ``numba.get_num_threads()`` threads (of the calling thread), each
    a contiguous range, sizes differing by at most one (as a static ``prange``
    schedule). One thread: a plain call. An exception in a range is raised
    here, after every range has ended.
    """
    import numba
    nt = max(1, min(n, numba.get_num_threads()))
    if nt == 1:
        kernel(*args, 0, n)
        return
    if _POOL[0] != os.getpid():     # threads do not survive a fork
        _POOL[:] = [os.getpid(), ThreadPoolExecutor(numba.config.NUMBA_NUM_THREADS,
                                                    thread_name_prefix="isingneuron")]
    edges = [n * t // nt for t in range(nt + 1)]
    jobs = [_POOL[1].submit(kernel, *args, edges[t], edges[t + 1]) for t in range(nt)]
    for job in jobs:
        job.exception()             # wait for all before raising any
    for job in jobs:
        job.result()
