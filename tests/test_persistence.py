import json
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import skops.io as sio
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_reseq.models import DRNRegressor, FFNRegressor, MeanRatingRegressor
from sk_reseq.persistence import UntrustedTypesError, load_model, save_model


class Shift(TransformerMixin, BaseEstimator):
    """A user-defined step: not trusted by default."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X + 1.0


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 6)).astype(np.float32)
    Y = np.clip(0.5 + 0.2 * X[:, :1] + rng.normal(0, 0.05, (60, 4)), 0, 1)
    Y[rng.uniform(size=Y.shape) < 0.2] = np.nan
    Y[:, 0] = np.clip(0.5 + 0.2 * X[:, 0], 0, 1)
    return X, Y


def ffn():
    return FFNRegressor(hidden_sizes=(16, 8), max_epochs=5, lr=1e-2, random_state=0)


def test_ffn_pipeline_round_trip(tmp_path, data):
    X, Y = data
    pipe = make_pipeline(StandardScaler(), ffn()).fit(X, Y)
    path = save_model(pipe, tmp_path / "ffn.skops")
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(X), pipe.predict(X), atol=1e-6)
    assert loaded.get_params(deep=False).keys() == pipe.get_params(deep=False).keys()
    net = loaded[-1]
    assert net.hidden_sizes_ == (16, 8)
    assert len(net.net_.history) == len(pipe[-1].net_.history)
    # The network went in as safetensors weights, not as a pickle.
    with zipfile.ZipFile(path) as zf:
        blobs = [zf.read(n) for n in zf.namelist() if n.endswith(".bin")]
    assert any(b[8:9] == b"{" and b'"dtype"' in b[:4096] for b in blobs)  # safetensors header
    assert not any(b.startswith(b"\x80") for b in blobs)  # no pickle protocol marker
    # Fitting the original again does not touch the loaded copy.
    pipe.fit(X[::-1].copy(), Y[::-1].copy())
    np.testing.assert_allclose(loaded.predict(X), load_model(path).predict(X), atol=1e-6)


def test_drn_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(12, 2, 64)).astype(np.float32)
    y = rng.uniform(size=12)
    drn = DRNRegressor(n_blocks=2, block_sizes=(4, 4, 4), pool_size=16, final_size=3,
                       n_samples=64, max_epochs=2, random_state=0).fit(X, y)
    loaded = load_model(save_model(drn, tmp_path / "drn.skops"))
    np.testing.assert_allclose(loaded.predict(X), drn.predict(X), atol=1e-6)
    assert loaded.receptive_field_ == drn.receptive_field_


def test_baseline_round_trip(tmp_path, data):
    X, Y = data
    est = MeanRatingRegressor().fit(X, Y)
    assert load_model(save_model(est, tmp_path / "m.skops")).mean_ == est.mean_


def test_untrusted_type_refused_unless_trusted(tmp_path, data):
    X, Y = data
    pipe = make_pipeline(Shift(), MeanRatingRegressor()).fit(X, Y)
    path = save_model(pipe, tmp_path / "custom.skops")
    with pytest.raises(UntrustedTypesError, match="Shift") as info:
        load_model(path)
    assert info.value.types == [f"{Shift.__module__}.Shift"]
    loaded = load_model(path, trusted=info.value.types)
    np.testing.assert_allclose(loaded.predict(X), pipe.predict(X), atol=1e-6)


def test_corrupt_files_refused(tmp_path, data):
    X, Y = data
    path = save_model(MeanRatingRegressor().fit(X, Y), tmp_path / "m.skops")
    raw = path.read_bytes()
    (tmp_path / "truncated.skops").write_bytes(raw[: len(raw) // 2])
    (tmp_path / "noise.skops").write_bytes(np.random.default_rng(0).bytes(500))
    for name in ("truncated.skops", "noise.skops"):
        with pytest.raises(ValueError, match="not a valid sk_reseq model file"):
            load_model(tmp_path / name)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.skops")


def test_failed_save_leaves_nothing_behind(tmp_path, data, monkeypatch):
    X, Y = data
    target = tmp_path / "m.skops"
    save_model(MeanRatingRegressor().fit(X, Y), target)
    before = target.read_bytes()

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("sk_reseq._atomic.os.replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        save_model(MeanRatingRegressor().fit(X, Y[:, :2]), target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.skops"]


def test_fitted_nets_still_pickle(data):
    # joblib sends fitted estimators back from worker processes with pickle.
    X, Y = data
    est = ffn().fit(X, Y)
    clone = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(clone.predict(X), est.predict(X), atol=1e-6)


# -- crafted files: a model file must never run code or write files -----------------


def _json(value):
    return {"__class__": type(value).__name__, "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(value), "is_json": True}


def _call(module, name, *args):
    """A skops node that, if trusted, calls ``module.name(*args)`` while loading."""
    return {"__class__": name, "__module__": module, "__loader__": "ConstructorFromReduceNode",
            "content": {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
                        "content": list(args)}}


def _crafted_file(path, root):
    root = dict(root, protocol=2, _skops_version="0.16.0")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("schema.json", json.dumps(root))
    return path


def _estimator_with(param_node):
    """A trusted estimator (as skops writes it) whose first attribute is ``param_node``."""
    import io

    with zipfile.ZipFile(io.BytesIO(
            sio.dumps(MeanRatingRegressor().fit(np.zeros((2, 1)), [0.0, 1.0])))) as zf:
        root = json.loads(zf.read("schema.json"))
    attrs = root["content"]["content"]
    attrs[next(iter(attrs))] = param_node
    return root


def test_crafted_function_call_writes_nothing(tmp_path):
    target = tmp_path / "written_by_the_model_file.json"
    call = _call("sk_reseq._atomic", "atomic_write_json", _json(str(target)), _json({"x": 1}))
    for root in (call, _estimator_with(call)):
        path = _crafted_file(tmp_path / "crafted.skops", root)
        with pytest.raises(UntrustedTypesError, match="atomic_write_json"):
            load_model(path)
        assert not target.exists()


def test_crafted_two_step_chain_runs_nothing(tmp_path):
    # Step 1 would write a second model file, step 2 would load it trusting exec.
    second = tmp_path / "second.skops"
    inner = _crafted_file(tmp_path / "inner.skops", _call("builtins", "exec", _json("1")))
    write = _call("sk_reseq._atomic", "atomic_write_json", _json(str(second)),
                  _json(inner.read_bytes().hex()))
    load = _call("sk_reseq.persistence", "load_model", _json(str(second)), _json(["builtins.exec"]))
    root = {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
            "content": [write, load]}
    path = _crafted_file(tmp_path / "chain.skops", root)
    with pytest.raises(UntrustedTypesError) as info:
        load_model(path)
    assert set(info.value.types) == {"sk_reseq._atomic.atomic_write_json",
                                     "sk_reseq.persistence.load_model"}
    assert not second.exists()
    # exec itself is refused too, even inside a file made of trusted names only.
    with pytest.raises(UntrustedTypesError, match="builtins.exec"):
        load_model(inner)


def test_crafted_function_reference_and_method_refused(tmp_path):
    function = {"__class__": "save_audio", "__module__": "sk_reseq.audio",
                "__loader__": "FunctionNode"}
    path = _crafted_file(tmp_path / "fn.skops", _estimator_with(function))
    with pytest.raises(UntrustedTypesError, match="sk_reseq.audio.save_audio"):
        load_model(path)
    # A trusted class called with arguments from the file: only __init__ runs, and
    # a file whose root is not an estimator is refused.
    path = _crafted_file(tmp_path / "ctor.skops",
                         _call("sk_reseq.models._baseline", "MeanRatingRegressor"))
    assert isinstance(load_model(path), MeanRatingRegressor)
    path = _crafted_file(tmp_path / "list.skops", {"__class__": "list", "__module__": "builtins",
                                                   "__loader__": "ListNode", "content": []})
    with pytest.raises(ValueError, match="not an estimator"):
        load_model(path)


def test_crafted_file_through_the_cli_runs_nothing(tmp_path, capsys):
    from sk_reseq.cli import main

    target = tmp_path / "pwned.json"
    path = _crafted_file(tmp_path / "m.skops", _estimator_with(
        _call("sk_reseq._atomic", "atomic_write_json", _json(str(target)), _json(1))))
    audio = tmp_path / "in.wav"
    import soundfile as sf

    sf.write(audio, np.zeros((4410, 2), dtype=np.float32), 44100)
    code = main(["auto", str(audio), str(tmp_path / "out.wav"), "--model", str(path), "-q"])
    assert code != 0
    assert "not trusted" in capsys.readouterr().err
    assert not target.exists() and not (tmp_path / "out.wav").exists()


def test_trusted_types_are_classes_never_functions():
    import importlib

    from sklearn.base import BaseEstimator

    from sk_reseq.persistence import TRUSTED_TYPES

    for name in TRUSTED_TYPES:
        module, _, cls_name = name.rpartition(".")
        cls = getattr(importlib.import_module(module), cls_name)
        assert isinstance(cls, type), name  # classes only, never functions
        if name.startswith("sk_reseq."):
            assert issubclass(cls, BaseEstimator), name


def test_loading_the_default_model_imports_neither_torch_nor_dask():
    # skops.io's start-up would import them through scikit-learn's array API
    # adapters (1.5 s); persistence keeps them out, and they still import after.
    pytest.importorskip("torch")
    code = (
        "import sys\n"
        "from sk_reseq.persistence import load_default_model\n"
        "load_default_model()\n"
        "print('torch' in sys.modules, 'dask' in sys.modules)\n"
        "import sklearn.externals.array_api_compat.torch\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False", "True"]
