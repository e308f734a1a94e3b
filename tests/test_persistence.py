import pickle
import zipfile

import numpy as np
import pytest
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
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))
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
    np.testing.assert_array_equal(loaded.predict(X), load_model(path).predict(X))


def test_drn_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(12, 2, 64)).astype(np.float32)
    y = rng.uniform(size=12)
    drn = DRNRegressor(n_blocks=2, block_sizes=(4, 4, 4), pool_size=16, final_size=3,
                       n_samples=64, max_epochs=2, random_state=0).fit(X, y)
    loaded = load_model(save_model(drn, tmp_path / "drn.skops"))
    np.testing.assert_array_equal(loaded.predict(X), drn.predict(X))
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
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))


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
    np.testing.assert_array_equal(clone.predict(X), est.predict(X))
