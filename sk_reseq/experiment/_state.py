"""The experiment's state files: JSON written atomically, the data's fingerprint."""

import hashlib
import json

import numpy as np

from .._atomic import atomic_write_json


def _write_json(path, obj):
    atomic_write_json(path, obj, default=_json_default)


def _json_default(obj):
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def _read_json(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _fingerprint(audio, ratings):
    digest = hashlib.sha256()
    for track in audio:
        digest.update(np.ascontiguousarray(track, dtype=np.float32).tobytes())
    digest.update(np.ascontiguousarray(ratings, dtype=np.float64).tobytes())
    return digest.hexdigest()


def _plain(params):
    return {k: json.loads(json.dumps(v, default=_json_default)) for k, v in params.items()}
