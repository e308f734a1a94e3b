"""WindowSampler: windows from whole tracks, groups, reproducibility, bad input."""

import numpy as np
import pytest
from sklearn.model_selection import GroupKFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_reseq._validation import AudioValueError
from sk_reseq.preprocessing import WindowSampler

SR = 1000


def _unique_tracks(lengths, n_channels=2, seed=0):
    """Tracks whose samples are all distinct, so a window can be located."""
    rng = np.random.default_rng(seed)
    total = sum(lengths) * n_channels
    values = rng.permutation(total).astype(np.float32) / total
    tracks, pos = [], 0
    for length in lengths:
        size = length * n_channels
        tracks.append(values[pos : pos + size].reshape(n_channels, length))
        pos += size
    return tracks


def _locate(window, track):
    """Start of ``window`` in ``track`` found from its first sample, or None."""
    hits = np.flatnonzero(track[0] == window[0, 0])
    for start in hits:
        if np.array_equal(track[:, start : start + window.shape[1]], window):
            return int(start)
    return None


@pytest.mark.parametrize("causal", [True, False])
def test_windows_lie_inside_their_track_at_their_reference_time(causal):
    tracks = _unique_tracks([1200, 3000, 750])
    Y = np.array([[0.1, np.nan], [0.5, 0.25], [1.0, 0.0]])
    sampler = WindowSampler(duration=0.5, sr=SR, n_windows=20, causal=causal, random_state=3)
    X, Y_rep, groups = sampler.fit_resample(tracks, Y)
    n = 500
    assert X.shape == (60, 2, n) and X.dtype == np.float32
    for k in range(len(X)):
        track = tracks[groups[k]]
        start = _locate(X[k], track)
        assert start is not None, f"window {k} not found in track {groups[k]}"
        assert 0 <= start and start + n <= track.shape[1]
        ref = sampler.reference_times_[k] * SR
        if causal:
            assert start + n <= ref + 1e-9
            assert start + n == pytest.approx(ref)
        else:
            assert start + n / 2 == pytest.approx(ref)
        np.testing.assert_array_equal(Y_rep[k], Y[groups[k]])


def test_groups_align_with_Y_and_work_with_group_kfold():
    tracks = _unique_tracks([800] * 5, n_channels=1)
    Y = np.linspace(0, 1, 5)
    X, Y_rep, groups = WindowSampler(n_windows=4, sr=SR, random_state=0).fit_resample(tracks, Y)
    assert groups.tolist() == np.repeat(np.arange(5), 4).tolist()
    np.testing.assert_array_equal(Y_rep, Y[groups])
    for train, test in GroupKFold(n_splits=5).split(X, Y_rep, groups):
        assert set(groups[train]).isdisjoint(groups[test])


def test_same_random_state_same_windows_and_different_seed_differs():
    tracks = _unique_tracks([5000, 4000])
    Y = [0.2, 0.4]
    a = WindowSampler(sr=SR, n_windows=10, random_state=7).fit_resample(tracks, Y)[0]
    b = WindowSampler(sr=SR, n_windows=10, random_state=7).fit_resample(tracks, Y)[0]
    c = WindowSampler(sr=SR, n_windows=10, random_state=8).fit_resample(tracks, Y)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_inputs_are_not_modified():
    tracks = _unique_tracks([900, 900])
    copies = [t.copy() for t in tracks]
    Y = np.array([[0.1, np.nan], [0.3, 0.2]])
    Y_copy = Y.copy()
    X, _, _ = WindowSampler(sr=SR, n_windows=2, random_state=0).fit_resample(tracks, Y)
    X[:] = -5  # the windows must be copies, not views of the tracks
    for t, c in zip(tracks, copies):
        np.testing.assert_array_equal(t, c)
    np.testing.assert_array_equal(Y, Y_copy)


def test_mixed_channel_counts():
    stereo, mono = _unique_tracks([700], n_channels=2)[0], _unique_tracks([700], 1, seed=1)[0]
    sampler = WindowSampler(sr=SR, n_windows=3, random_state=0)
    X, _, groups = sampler.fit_resample([stereo, mono[0]], [0.0, 1.0])
    assert sampler.n_channels_ == 2
    mono_windows = X[groups == 1]
    np.testing.assert_array_equal(mono_windows[:, 0], mono_windows[:, 1])
    X1, _, _ = WindowSampler(sr=SR, n_windows=3, n_channels=1, random_state=0).fit_resample(
        [stereo, mono], [0.0, 1.0]
    )
    assert X1.shape[1] == 1
    six = np.zeros((6, 700))
    with pytest.raises(ValueError, match=r"tracks\[0\] has 2 channels but windows need 6"):
        WindowSampler(sr=SR).fit_resample([stereo, six], [0.0, 1.0])


def test_consecutive_windows_for_prediction():
    track = _unique_tracks([2300])[0]
    sampler = WindowSampler(duration=0.5, sr=SR)
    X, ends = sampler.windows(track, hop=0.25)
    # Starts 0, 250, ..., 1750: the last window ends at 2250 <= 2300.
    assert X.shape == (8, 2, 500)
    np.testing.assert_allclose(ends, (np.arange(8) * 250 + 500) / SR)
    for k in range(len(X)):
        assert _locate(X[k], track) == k * 250
    X_default, ends_default = sampler.windows(track)
    assert len(X_default) == 4 and ends_default[-1] == pytest.approx(2.0)


def test_fitted_channel_count_applies_to_prediction_windows():
    sampler = WindowSampler(sr=SR, n_windows=1, random_state=0)
    sampler.fit(_unique_tracks([600, 600]))
    X, _ = sampler.windows(np.ones(600))
    assert X.shape == (1, 2, 500)


def test_track_shorter_than_a_window_is_refused():
    tracks = _unique_tracks([600, 499])
    with pytest.raises(AudioValueError, match=r"tracks\[1\] has 499 samples.*refused"):
        WindowSampler(sr=SR, random_state=0).fit_resample(tracks, [0.1, 0.2])
    with pytest.raises(AudioValueError, match=r"track has 499 samples"):
        WindowSampler(sr=SR).windows(tracks[1])
    # A track of exactly one window gives that window every time.
    X, _, _ = WindowSampler(sr=SR, n_windows=3, random_state=0).fit_resample(
        [tracks[0][:, :500]], [0.5]
    )
    np.testing.assert_array_equal(X[0], tracks[0][:, :500])
    np.testing.assert_array_equal(X[2], tracks[0][:, :500])


@pytest.mark.parametrize(
    "tracks, Y, error, match",
    [
        (lambda t: t, [0.1, 0.2, 0.3], ValueError, r"2 tracks but 3 rows of Y"),
        (lambda t: [], [], ValueError, r"tracks is empty"),
        (lambda t: "song.wav", [0.1], TypeError, r"single str"),
        (lambda t: [t[0], b"not audio"], [0.1, 0.2], TypeError, r"tracks\[1\]"),
        (lambda t: [t[0], np.full((2, 600), np.nan)], [0.1, 0.2], ValueError, r"tracks\[1\].*NaN"),
        (lambda t: t, [[0.1], ["x"]], ValueError, r"Y must be a numeric array"),
    ],
)
def test_bad_input_names_the_argument(tracks, Y, error, match):
    good = _unique_tracks([600, 600])
    with pytest.raises(error, match=match):
        WindowSampler(sr=SR).fit_resample(tracks(good), Y)


@pytest.mark.parametrize(
    "params", [{"duration": 0}, {"n_windows": 0}, {"sr": -1}, {"causal": "yes"}, {"n_channels": 0}]
)
def test_bad_parameters_are_rejected(params):
    with pytest.raises(ValueError, match=next(iter(params))):
        WindowSampler(**params).fit_resample(_unique_tracks([1000]), [0.5])


def test_bad_hop_is_rejected():
    with pytest.raises(ValueError, match="hop"):
        WindowSampler(sr=SR).windows(np.ones(600), hop=0)


def test_file_paths_are_loaded_and_resampled(tmp_path):
    sf = pytest.importorskip("soundfile")
    pytest.importorskip("sk_reseq.audio")
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal((2 * SR, 2))).astype(np.float32)
    path = tmp_path / "a.wav"
    sf.write(path, audio, 2 * SR)  # twice the sampler's rate: resampled on load
    X, _, _ = WindowSampler(sr=SR, n_windows=2, random_state=0).fit_resample([path], [0.3])
    assert X.shape == (2, 2, 500)


# scikit-learn's common checks feed 2-D X, which the sampler reads as one mono
# track per row; these checks assume a tabular estimator and cannot apply.
EXPECTED_FAILED_CHECKS = {
    "check_n_features_in_after_fitting": "tracks have no fixed feature count (any length)",
    "check_n_features_in": "tracks have no fixed feature count (any length)",
    "check_complex_data": "complex audio gets sk_reseq's TypeError, not sklearn's wording",
    "check_dtype_object": "object arrays are not audio; rejected with a TypeError",
    "check_estimators_empty_data_messages": "an empty track gets the audio validator's message",
}


@parametrize_with_checks(
    [WindowSampler(duration=0.001, sr=1000, n_windows=2, random_state=0)],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_array_inputs_two_d_rows_are_mono_tracks_and_1d_is_refused():
    rows = np.arange(12.0).reshape(2, 6) / 12
    X, _, groups = WindowSampler(duration=0.003, sr=1000, n_windows=2, random_state=0).fit_resample(
        rows, [0.1, 0.2]
    )
    assert X.shape == (4, 1, 3)
    assert np.all(X[groups == 1] >= 0.5)
    with pytest.raises(ValueError, match=r"1-D array.*\[track\]"):
        WindowSampler(sr=SR).fit_resample(np.ones(600), [0.1])
    with pytest.raises(ValueError, match=r"tracks\[0\] is a scalar"):
        WindowSampler(sr=SR).fit_resample([0.5], [0.1])
