"""SQLite store of the listening test: raters, their track order, their ratings.

One row per (track, rater) in ``ratings`` (``UNIQUE(track, rater)``);
``rating`` is NULL when the rater declined ("none acceptable"). Every write
is one ``BEGIN IMMEDIATE`` transaction on its own connection, so concurrent
requests (the server runs handlers in a thread pool) serialise on SQLite's
write lock instead of racing; WAL mode lets readers go on meanwhile.

Re-rating a track **updates** its row: the latest answer wins, ``created_at``
keeps the first answer's time, ``updated_at`` the latest and ``n_answers``
counts the answers. A client that retries a request after a lost response
thus gets the same row, never a duplicate.

Each rater has a secret token, handed out once at registration: the
database keeps only its SHA-256 (``raters.token_hash``), so a copy of the
database gives nobody the right to rate. The token is random (256 bits), so
a plain hash needs neither salt nor key stretching. Raters registered before
tokens existed have no hash: they cannot rate until :meth:`RatingStore.issue_token`
gives them one.

Each answer also records ``start_step``, the step at which the page's
slider started on that track for that rater (:func:`start_step`, drawn by
the server so that no position anchors every choice); answers stored
before it was recorded have NULL there. A database of an older version is
upgraded in place when opened (columns added, nothing removed); a file that
is not a listening-test database is refused with a message that says so.
"""

import hashlib
import hmac
import json
import logging
import re
import secrets
import sqlite3
from contextlib import contextmanager
from datetime import UTC, datetime

import numpy as np

__all__ = ["RatingStore", "check_rater_id", "rater_seed", "start_step"]

logger = logging.getLogger(__name__)

_RATER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS raters (
    rater       TEXT PRIMARY KEY,
    seed        INTEGER NOT NULL,
    track_order TEXT NOT NULL,          -- JSON list of track ids
    created_at  TEXT NOT NULL,
    token_hash  TEXT                    -- SHA-256 hex of the rater's token
);
CREATE TABLE IF NOT EXISTS ratings (
    id          INTEGER PRIMARY KEY,
    track       TEXT NOT NULL,
    rater       TEXT NOT NULL REFERENCES raters(rater),
    rating      REAL,                   -- NULL = declined ("none acceptable")
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    n_answers   INTEGER NOT NULL DEFAULT 1,
    start_step  INTEGER,                -- the slider's first step (NULL: not recorded)
    UNIQUE (track, rater),
    CHECK (rating IS NULL OR (rating >= 0.0 AND rating <= 1.0))
);
"""

# Columns added since the first version, added in place to older databases.
_ADDED_COLUMNS = {"raters": {"token_hash": "TEXT"}, "ratings": {"start_step": "INTEGER"}}
# Columns every version had: without them a file is not a ratings database.
_CORE_COLUMNS = {"raters": {"rater", "seed", "track_order", "created_at"},
                 "ratings": {"id", "track", "rater", "rating", "created_at", "updated_at",
                             "n_answers"}}

# 256 bits: far beyond guessing (and what the secrets module's default gives today).
_TOKEN_BYTES = 32


def _now():
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def check_rater_id(rater):
    """Return ``rater`` stripped if it is a valid rater identifier, else raise ValueError.

    Identifiers are 1 to 64 characters: letters, digits, space and ``._@-``,
    starting with a letter or digit.

    Examples
    --------
    >>> from sk_reseq.listen import check_rater_id
    >>> check_rater_id("  engineer-07 ")
    'engineer-07'
    """
    if not isinstance(rater, str):
        raise TypeError(f"rater must be a string, got {type(rater).__name__}.")
    stripped = rater.strip()
    if not _RATER_ID.match(stripped):
        raise ValueError(
            f"rater {rater!r} is not a valid identifier: use 1 to 64 letters, digits, "
            "spaces or ._@- characters, starting with a letter or digit."
        )
    return stripped


def _token_hash(token):
    # surrogatepass: any str a client sends must hash (to a mismatch), not raise.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def rater_seed(rater):
    """A stable 32-bit seed derived from the rater's identifier (SHA-256).

    Examples
    --------
    >>> from sk_reseq.listen import rater_seed
    >>> rater_seed("alice") == rater_seed("alice") != rater_seed("bob")
    True
    """
    return int.from_bytes(hashlib.sha256(rater.encode("utf-8")).digest()[:4], "big")


def start_step(rater, track, n_steps):
    """The step at which the slider starts for ``rater`` on ``track``: one of ``0..n_steps-1``.

    Uniform over the steps and independent from track to track (SHA-256 of
    the rater and the track), so that the starting position, which raters
    tend to stay near, favours no factor; and the same on every visit, so a
    reload shows the track as before.

    Examples
    --------
    >>> from sk_reseq.listen import start_step
    >>> steps = [start_step("alice", f"t{i}", 17) for i in range(200)]
    >>> min(steps), max(steps), start_step("alice", "t0", 17) == steps[0]
    (0, 16, True)
    """
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}.")
    digest = hashlib.sha256(f"{rater}\x00{track}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % int(n_steps)


class RatingStore:
    """The listening test's SQLite database.

    Parameters
    ----------
    path : str or path-like
        Database file (created with its tables when missing).

    Examples
    --------
    >>> import tempfile, os
    >>> from sk_reseq.listen import RatingStore
    >>> store = RatingStore(os.path.join(tempfile.mkdtemp(), "ratings.sqlite"))
    >>> token = store.register("alice", ["t1", "t2", "t3"])
    >>> store.check_token("alice", token), store.check_token("alice", "guess")
    (True, False)
    >>> store.register("alice", ["t1", "t2", "t3"]) is None  # the name is taken
    True
    >>> sorted(store.order("alice", ["t1", "t2", "t3"]))
    ['t1', 't2', 't3']
    >>> store.rate("alice", "t2", 0.25)
    False
    >>> store.rate("alice", "t3", None)  # declined
    False
    >>> store.ratings("alice")
    {'t2': 0.25, 't3': None}
    """

    def __init__(self, path):
        self.path = str(path)
        try:
            con = self._connect()
            try:
                con.executescript(_SCHEMA)
            finally:
                con.close()
            with self._transaction() as con:  # one opener upgrades, a concurrent one sees it done
                for table, added in _ADDED_COLUMNS.items():
                    columns = {row[1] for row in con.execute(f"PRAGMA table_info({table})")}
                    missing = sorted(_CORE_COLUMNS[table] - columns)
                    if missing:
                        raise ValueError(
                            f"{self.path!r} is not a listening-test ratings database: its "
                            f"table {table!r} lacks the column(s) {missing}. Pass the database "
                            "that `sk-reseq listen serve` wrote (PANEL_DIR/ratings.sqlite), or "
                            "a new path.")
                    for name, kind in added.items():
                        if name not in columns:  # an older version's database
                            con.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"{self.path!r} is not a listening-test ratings database "
                             f"(SQLite: {exc}); pass the database that `sk-reseq listen serve` "
                             "wrote, or a new path.") from None

    def _connect(self):
        con = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA foreign_keys=ON")
        return con

    @contextmanager
    def _transaction(self):
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    def register(self, rater, tracks):
        """Create ``rater`` and return their secret token, or None if the name is taken.

        The token (:func:`secrets.token_urlsafe`) is returned only here;
        the store keeps its hash, checked by :meth:`check_token`. A taken
        name gets no token, so nobody can take over another rater's ratings
        by registering their name again.

        A new rater's order is a permutation of ``tracks`` drawn with
        :func:`rater_seed`; it is stored, so later changes to the panel do
        not reshuffle it (see :meth:`order`).
        """
        rater = check_rater_id(rater)
        tracks = list(tracks)
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        with self._transaction() as con:
            if con.execute("SELECT 1 FROM raters WHERE rater = ?", (rater,)).fetchone() is not None:
                return None
            seed = rater_seed(rater)
            order = [tracks[i] for i in np.random.default_rng(seed).permutation(len(tracks))]
            con.execute("INSERT INTO raters (rater, seed, track_order, created_at, token_hash) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (rater, seed, json.dumps(order), _now(), _token_hash(token)))
        logger.info("new rater %s", rater)
        return token

    def issue_token(self, rater):
        """Give ``rater`` a new secret token and return it; the old one stops working.

        For a rater who lost their token (another browser, cleared storage)
        or who registered before tokens existed. Raises KeyError for an
        unknown rater.
        """
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        with self._transaction() as con:
            cursor = con.execute("UPDATE raters SET token_hash = ? WHERE rater = ?",
                                 (_token_hash(token), rater))
            if cursor.rowcount == 0:
                raise KeyError(rater)
        logger.info("new token for rater %s", rater)
        return token

    def check_token(self, rater, token):
        """Whether ``token`` is the secret token of ``rater``; KeyError for an unknown rater.

        Compares in constant time, so response times do not reveal how much
        of a guess was right.
        """
        con = self._connect()
        try:
            row = con.execute("SELECT token_hash FROM raters WHERE rater = ?", (rater,)).fetchone()
        finally:
            con.close()
        if row is None:
            raise KeyError(rater)
        # A rater without a hash (registered before tokens) matches no token.
        return row[0] is not None and hmac.compare_digest(row[0], _token_hash(token))

    def order(self, rater, tracks):
        """The stored track order of ``rater``, restricted to ``tracks``.

        Tracks added to the panel after the rater registered are appended in
        an order drawn from the rater's seed; tracks no longer in ``tracks``
        are left out. Raises KeyError for an unknown rater.
        """
        con = self._connect()
        try:
            row = con.execute("SELECT seed, track_order FROM raters WHERE rater = ?",
                              (rater,)).fetchone()
        finally:
            con.close()
        if row is None:
            raise KeyError(rater)
        seed, stored = row[0], json.loads(row[1])
        known = set(tracks)
        order = [t for t in stored if t in known]
        new = sorted(known.difference(stored))
        return order + [new[i] for i in np.random.default_rng(seed).permutation(len(new))]

    def rate(self, rater, track, rating, start_step=None):
        """Store (or update) one answer; ``rating=None`` means declined.

        ``start_step`` is the slider's first step on the page (see
        :func:`start_step`), stored with the answer. Returns True when an
        earlier answer of this rater for this track was replaced. Raises
        KeyError for a rater who has not registered.
        """
        now = _now()
        with self._transaction() as con:
            if con.execute("SELECT 1 FROM raters WHERE rater = ?", (rater,)).fetchone() is None:
                raise KeyError(rater)
            existed = con.execute("SELECT 1 FROM ratings WHERE track = ? AND rater = ?",
                                  (track, rater)).fetchone() is not None
            con.execute(
                "INSERT INTO ratings (track, rater, rating, created_at, updated_at, start_step) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (track, rater) DO UPDATE SET rating = excluded.rating, "
                "updated_at = excluded.updated_at, n_answers = n_answers + 1, "
                "start_step = excluded.start_step",
                (track, rater, rating, now, now, start_step),
            )
        return existed

    def ratings(self, rater):
        """``{track: rating}`` of one rater (None = declined)."""
        con = self._connect()
        try:
            rows = con.execute("SELECT track, rating FROM ratings WHERE rater = ? ORDER BY id",
                               (rater,)).fetchall()
        finally:
            con.close()
        return dict(rows)

    def rows(self):
        """Every answer as a dict: track, rater, rating, times, n_answers and start_step."""
        con = self._connect()
        con.row_factory = sqlite3.Row
        try:
            rows = con.execute("SELECT track, rater, rating, created_at, updated_at, n_answers, "
                               "start_step FROM ratings ORDER BY rater, track").fetchall()
        finally:
            con.close()
        return [dict(r) for r in rows]
