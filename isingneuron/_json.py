"""Plain-JSON conversion shared by the writers of results files (paper, network)."""
import math
from pathlib import Path

import numpy as np

__all__ = ["jsonable"]


def jsonable(obj):
    """Recursively turn numpy values, tuples and paths into plain JSON types.

    Non-finite floats become None (JSON has no NaN or infinity).
    """
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, Path):
        return str(obj)
    return obj
