"""Output folders of the commands that write several files (``paper``, ``paper
network``, ``plot``): checked, and made, before any work, so that a bad path
costs one line and exit status 2, not a traceback after minutes of computing.
"""
from __future__ import annotations

import os
from pathlib import Path


def output_folder(path, what="OUTDIR", create=True) -> Path:
    """``path`` as a folder this process can write files in, made if missing.

    Parameters
    ----------
    path : str or path-like
        The folder.
    what : str
        How the messages name it (an option or an argument).
    create : bool
        Make it (and its parents) if missing; else a missing folder is refused.

    Raises
    ------
    ValueError
        An empty path, an existing file, a folder under a file, a folder that
        does not exist (``create=False``), cannot be made or cannot be written;
        the message names ``what`` and the path.
    """
    if str(path) == "":
        raise ValueError(f"{what} = '': name a folder")
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ValueError(f"{what} {p}: is a file, not a folder")
    if not p.exists():
        if not create:
            raise ValueError(f"{what} {p}: no such folder")
        try:
            p.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"{what} {p}: cannot be made ({exc.strerror or exc})") from None
    if not os.access(p, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {p}: the folder is not writable")
    return p
