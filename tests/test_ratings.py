"""Ratings CSV I/O, alignment to audio tracks, and audio folders."""

import io
import os

import numpy as np
import pandas as pd
import pytest

from sk_reseq.datasets import (
    align_ratings,
    list_audio_files,
    load_audio_folder,
    load_ratings,
    save_ratings,
)


def _csv(tmp_path, text, name="r.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_load_long_csv_to_wide_with_declines_and_missing_pairs(tmp_path):
    path = _csv(
        tmp_path,
        "track,rater,rating\n"
        "t1,s01,0.25\n"
        "t1,s02,\n"  # declined
        "t2,s02,1\n"  # t2 has no row for s01
        "t3,s01,0.0625\n",
    )
    r = load_ratings(path)
    assert r.index.tolist() == ["t1", "t2", "t3"]
    assert r.columns.tolist() == ["s01", "s02"]
    assert r.index.name == "track" and r.columns.name == "rater"
    np.testing.assert_array_equal(
        r.to_numpy(), [[0.25, np.nan], [np.nan, 1.0], [0.0625, np.nan]]
    )


def test_ids_stay_strings_and_extra_columns_are_ignored(tmp_path):
    path = _csv(tmp_path, "session,track,rater,rating\nA,007,1,0.5\n")
    r = load_ratings(path)
    assert r.index.tolist() == ["007"] and r.columns.tolist() == ["1"]


@pytest.mark.parametrize(
    "body, match",
    [
        ("t1,s01,0.5\nt2,s01,1.5\n", r"line 3: rating 1.5 is outside \[0, 1\]"),
        ("t1,s01,-0.1\n", r"line 2: rating -0.1 is outside"),
        ("t1,s01,0.5\nt1,s02,good\n", r"line 3: rating 'good' is not a number"),
        ("t1,s01,nan\n", r"line 2: rating nan is not finite"),
        ("t1,s01,0.5\nt2,s01,0.1\nt1,s01,0.25\n", r"line 4: duplicate.*'t1'.*'s01'.*line 2"),
        ("t1,,0.5\n", r"line 2: empty rater"),
        ("t1,s01\n", r"line 2: 2 field"),
    ],
)
def test_bad_rows_are_named_by_line(tmp_path, body, match):
    path = _csv(tmp_path, "track,rater,rating\n" + body)
    with pytest.raises(ValueError, match=match):
        load_ratings(path)


@pytest.mark.parametrize(
    "text, match",
    [
        ("track,user,rating\nt1,s01,0.5\n", r"line 1: missing column\(s\) \['rater'\]"),
        ("", r"empty"),
        ("track,rater,rating\n", r"no ratings"),
    ],
)
def test_bad_files(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        load_ratings(_csv(tmp_path, text))


def test_missing_file_and_bad_argument(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_ratings(tmp_path / "nope.csv")
    with pytest.raises(TypeError, match="csv_file"):
        load_ratings(3)


def test_wide_round_trip_writes_every_cell(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.integers(0, 17, size=(6, 4)) / 16
    values[rng.uniform(size=values.shape) < 0.2] = np.nan
    wide = pd.DataFrame(
        values, index=[f"track{i:02d}" for i in range(6)], columns=[f"s{j:02d}" for j in range(4)]
    )
    path = tmp_path / "out.csv"
    save_ratings(wide, path)
    lines = path.read_text().splitlines()
    assert lines[0] == "track,rater,rating"
    assert len(lines) == 1 + values.size
    assert sum(line.endswith(",") for line in lines) == np.isnan(values).sum()
    back = load_ratings(path)
    np.testing.assert_array_equal(back.to_numpy(), values)
    assert back.index.tolist() == wide.index.tolist()
    assert back.columns.tolist() == wide.columns.tolist()


def test_long_dataframe_rows_are_written_as_they_are(tmp_path):
    long = pd.DataFrame(
        {"rater": ["a", "b", "a"], "track": ["x", "x", "y"], "rating": [0.5, np.nan, 1.0]}
    )
    path = tmp_path / "long.csv"
    save_ratings(long, path)
    assert path.read_text().splitlines() == ["track,rater,rating", "x,a,0.5", "x,b,", "y,a,1"]


@pytest.mark.parametrize(
    "ratings, match",
    [
        (
            pd.DataFrame({"s01": [0.5, 2.0]}, index=["a", "b"]),
            r"cell 2 \(track 'b', rater 's01'\).*outside",
        ),
        (
            pd.DataFrame({"track": ["a", "a"], "rater": ["s", "s"], "rating": [0.1, 0.2]}),
            r"row 2 \(track 'a', rater 's'\): duplicate",
        ),
        (
            pd.DataFrame({"track": ["a"], "rater": ["s"], "rating": ["high"]}),
            r"row 1.*'high' is not a number",
        ),
        (np.zeros(3), r"2-D"),
    ],
)
def test_save_rejects_bad_ratings_and_writes_nothing(tmp_path, ratings, match):
    path = tmp_path / "bad.csv"
    with pytest.raises(ValueError, match=match):
        save_ratings(ratings, path)
    assert not path.exists()
    assert os.listdir(tmp_path) == []  # no temporary file left behind


def test_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("old")
    save_ratings(pd.DataFrame({"s": [0.5]}, index=["t"]), path)
    assert load_ratings(path).iloc[0, 0] == 0.5


def test_load_from_text_buffer():
    r = load_ratings(io.StringIO("track,rater,rating\na,s,0.5\n"))
    assert r.loc["a", "s"] == 0.5


# -- alignment -------------------------------------------------------------------


def _ratings():
    return pd.DataFrame(
        {"s01": [0.5, 0.25, np.nan], "s02": [0.75, np.nan, 0.0]}, index=["b", "a", "c"]
    )


def test_align_orders_rows_like_the_tracks_ignoring_extensions():
    aligned = align_ratings(_ratings(), ["a.wav", "c.flac", "b"])
    assert aligned.index.tolist() == ["a.wav", "c.flac", "b"]
    np.testing.assert_array_equal(aligned["s01"].to_numpy(), [0.25, np.nan, 0.5])
    np.testing.assert_array_equal(aligned["s02"].to_numpy(), [np.nan, 0.0, 0.75])


def test_align_rejects_unknown_tracks():
    with pytest.raises(ValueError, match=r"1 unknown track.*\['c'\]"):
        align_ratings(_ratings(), ["a", "b"])


def test_align_rejects_tracks_without_ratings():
    with pytest.raises(ValueError, match=r"1 track\(s\) have no rating.*\['d.wav'\]"):
        align_ratings(_ratings(), ["a", "b", "c", "d.wav"])
    declined = _ratings()
    declined.loc["a"] = np.nan
    with pytest.raises(ValueError, match=r"no rating.*\['a'\]"):
        align_ratings(declined, ["a", "b", "c"])


def test_align_rejects_repeated_ids_and_bad_types():
    with pytest.raises(ValueError, match="repeated"):
        align_ratings(_ratings(), ["a", "a.wav", "b", "c"])
    with pytest.raises(TypeError, match="DataFrame"):
        align_ratings(np.zeros((3, 2)), ["a", "b", "c"])


# -- audio folders ------------------------------------------------------------------


def test_load_audio_folder_resamples_and_names_by_stem(tmp_path):
    from sk_reseq.audio import save_audio

    rng = np.random.default_rng(0)
    for name, sr in (("b.wav", 8000), ("a.flac", 16000)):
        save_audio(tmp_path / name, (0.1 * rng.standard_normal((2, sr))).astype(np.float32), sr)
    (tmp_path / "notes.txt").write_text("not audio")
    audio, names = load_audio_folder(tmp_path, sr=8000)
    assert names == ["a", "b"]
    assert [a.shape for a in audio] == [(2, 8000), (2, 8000)]
    assert all(a.dtype == np.float32 for a in audio)


def test_audio_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_audio_folder(tmp_path / "missing")
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(ValueError, match="No audio files"):
        load_audio_folder(tmp_path)
    with pytest.raises(NotADirectoryError):
        list_audio_files(tmp_path / "x.txt")
