"""Where Numba caches the compiled kernels, and a place when it has none.

The kernels are compiled once and cached (``cache=True``). Numba looks for a
place in this order: ``NUMBA_CACHE_DIR``, ``__pycache__`` beside the source
(an install the user can write to), then the user's cache folder
(``~/.cache/numba``). Where none is writable (a read-only install run by a
user without a home, e.g. a service account), Numba refuses to define a
cached function at all, and every command would fail at import. Then
:func:`ensure_cache` points Numba at ``<temp dir>/isingneuron-numba-<user>``:
the same folder for every process of that user, so local workers share it.
The folder is used only if it is a folder of this user that nobody else can
write to (Numba unpickles what it finds there); otherwise the kernels cache
in a new private folder of this process. Call it before the first cached
function is defined (``_rng`` does). It sets ``numba.config.CACHE_DIR``, which
holds for every Numba function of the process, and only where Numba has no
cache folder at all.
"""
from __future__ import annotations

import getpass
import os
import stat
import tempfile
from pathlib import Path


def _probe():
    """A function of this package's source folder (the kernels' folder)."""


def cache_dir() -> str | None:
    """The folder Numba caches this package's kernels in, or None if it has none."""
    from numba.core.caching import CompileResultCacheImpl
    try:
        return CompileResultCacheImpl(_probe).locator.get_cache_path()
    except RuntimeError:            # "cannot cache function ...: no locator available"
        return None


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):     # no name for this uid
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


def _private_folder(path) -> bool:
    """Make ``path`` (mode 700) if need be; True if it is a folder of this user that
    no one else can write to."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return False
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_mode & 0o022:
        return False
    return not hasattr(os, "getuid") or st.st_uid == os.getuid()


def ensure_cache() -> None:
    """Give Numba a writable cache folder if it has none (see the module docstring)."""
    import numba
    if cache_dir() is not None:
        return
    folder = Path(tempfile.gettempdir()) / f"isingneuron-numba-{_user()}"
    if not _private_folder(folder):
        folder = Path(tempfile.mkdtemp(prefix="isingneuron-numba-"))    # this process only
    numba.config.CACHE_DIR = str(folder)
