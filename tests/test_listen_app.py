"""The listening-test server: API flow, rater tokens, Host check, bad input, path traversal,
concurrency, export."""

import csv
import hashlib
import http.client
import json
import socket
import sqlite3
import threading
import time
from contextlib import contextmanager

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the `listen` extra (starlette) is not installed")
uvicorn = pytest.importorskip("uvicorn", reason="the `listen` extra (uvicorn) is not installed")
httpx = pytest.importorskip("httpx", reason="httpx (dev extra) is not installed")

from sk_reseq.cli import build_parser, main  # noqa: E402
from sk_reseq.datasets import load_ratings  # noqa: E402
from sk_reseq.listen import (  # noqa: E402
    DEFAULT_HOST,
    RatingStore,
    create_app,
    export_ratings,
    start_step,
)
from test_listen_prepare import make_panel  # noqa: E402


@contextmanager
def live_server(app):
    """Serve ``app`` with uvicorn on a free 127.0.0.1 port in a thread; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    return make_panel(tmp_path_factory.mktemp("app"), n_tracks=4, seconds=0.5)


@pytest.fixture
def server(panel, tmp_path):
    """(base URL, db path) of a fresh server on the shared panel with its own database."""
    db = tmp_path / "ratings.sqlite"
    with live_server(create_app(panel, db_path=db, session_size=2)) as url:
        yield url, db


@pytest.fixture(scope="module")
def shared_server(panel, tmp_path_factory):
    """A server for the tests that must store nothing (bad input, paths): one per module."""
    db = tmp_path_factory.mktemp("shared") / "ratings.sqlite"
    with live_server(create_app(panel, db_path=db, session_size=2)) as url:
        yield url, db


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server[0], timeout=20) as c:
        yield c


def db_rows(db):
    with sqlite3.connect(db) as con:
        return con.execute("SELECT track, rater, rating, n_answers FROM ratings "
                           "ORDER BY rater, track").fetchall()


def db_raters(db):
    with sqlite3.connect(db) as con:
        return con.execute("SELECT * FROM raters ORDER BY rater").fetchall()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def register(client, rater):
    """Register a new rater; return their token."""
    response = client.post("/api/raters", json={"rater": rater})
    assert response.status_code == 201, response.text
    return response.json()["token"]


def rate(client, rater, track, rating, token):
    return client.post("/api/ratings", json={"rater": rater, "track": track, "rating": rating},
                       headers=bearer(token))


def test_rater_walks_through_sessions_in_a_stored_seeded_order(client, server):
    response = client.post("/api/raters", json={"rater": "alice"})
    assert response.status_code == 201
    token, state = response.json()["token"], response.json()["state"]
    assert (state["n_tracks"], state["n_done"], state["n_sessions"],
            state["session"]) == (4, 0, 2, 1)
    assert len(state["next"]["variants"]) == 17
    seen, answers = [], [0.0, None, 0.5, 1.0]
    for i, answer in enumerate(answers):
        track = state["next"]["track"]
        seen.append(track)
        response = rate(client, "alice", track, answer, token)
        assert response.status_code == 200, response.text
        state = response.json()["state"]
        assert state["n_done"] == i + 1
        assert state["at_break"] == (i == 1)  # break after the first session of 2
    assert state["done"] and state["next"] is None
    assert sorted(seen) == ["track0", "track1", "track2", "track3"]
    assert seen == RatingStore(server[1]).order("alice", seen)
    # Registering again with the token resumes: same order, nothing reset, no new token.
    again = client.post("/api/raters", json={"rater": "alice"}, headers=bearer(token))
    assert again.status_code == 200 and list(again.json()) == ["state"]
    assert again.json()["state"]["done"] and again.json()["state"]["n_done"] == 4
    assert client.get("/api/raters/alice", headers=bearer(token)).json() == again.json()["state"]
    assert db_rows(server[1]) == [(t, "alice", a, 1) for t, a in sorted(zip(seen, answers))]


def test_orders_differ_between_raters_and_are_reproducible(panel, tmp_path):
    tracks = ["track0", "track1", "track2", "track3"]
    store = RatingStore(tmp_path / "a.sqlite")
    for i in range(12):
        store.register(f"r{i}", tracks)
    orders = {tuple(store.order(f"r{i}", tracks)) for i in range(12)}
    assert len(orders) > 3
    other = RatingStore(tmp_path / "b.sqlite")
    other.register("r5", tracks)
    assert other.order("r5", tracks) == store.order("r5", tracks)


def test_rerating_updates_the_single_row(client, server):
    token = register(client, "bob")
    first = rate(client, "bob", "track2", 0.25, token).json()
    second = rate(client, "bob", "track2", None, token).json()
    assert (first["updated"], second["updated"]) == (False, True)
    assert db_rows(server[1]) == [("track2", "bob", None, 2)]
    assert second["state"]["n_done"] == 1


def test_raters_cannot_rate_or_resume_as_another_rater(client, server):
    alice, bob = register(client, "alice"), register(client, "bob")
    assert alice != bob and len(alice) >= 43  # 32 random bytes, URL-safe base64
    track = client.get("/api/raters/alice", headers=bearer(alice)).json()["next"]["track"]
    assert rate(client, "alice", track, 0.5, alice).status_code == 200
    before = db_rows(server[1]), db_raters(server[1])
    body = {"rater": "alice", "track": track, "rating": 1.0}
    for headers, status in [
        ({}, 401),
        ({"Authorization": ""}, 401),
        ({"Authorization": "Bearer"}, 401),
        ({"Authorization": f"Basic {alice}"}, 401),
        ({"X-Rater-Token": alice}, 401),         # only the Authorization header counts
        (bearer(bob), 403),                      # another rater's token
        (bearer(alice[:-1]), 403),
        (bearer(alice + "x"), 403),
        ({"Authorization": f"Bearer \xe9{alice}".encode("latin-1")}, 403),  # a non-ASCII byte
    ]:
        response = client.post("/api/ratings", json=body, headers=headers)
        assert response.status_code == status, (headers, response.text)
        assert "token" in response.json()["error"]
        if status == 401:
            assert response.headers["www-authenticate"] == "Bearer"
        state = client.get("/api/raters/alice", headers=headers)
        assert state.status_code == status and "n_done" not in state.text
    # Registering a taken name hands out no token: refused without the rater's own one.
    taken = client.post("/api/raters", json={"rater": "alice"})
    assert taken.status_code == 409 and "already taken" in taken.json()["error"]
    assert "token" not in taken.json()
    assert client.post("/api/raters", json={"rater": " alice "}).status_code == 409
    wrong = client.post("/api/raters", json={"rater": "alice"}, headers=bearer(bob))
    assert wrong.status_code == 403 and "token" not in wrong.json()
    assert (db_rows(server[1]), db_raters(server[1])) == before
    assert db_rows(server[1]) == [(track, "alice", 0.5, 1)]
    # The database keeps only a hash of each token.
    hashes = {r[0]: r[-1] for r in db_raters(server[1])}
    assert hashes == {"alice": hashlib.sha256(alice.encode()).hexdigest(),
                      "bob": hashlib.sha256(bob.encode()).hexdigest()}
    assert alice.encode() not in server[1].read_bytes()
    # Tokens of unknown raters: 404 once a token is given, 401 before.
    assert client.get("/api/raters/nobody").status_code == 401
    assert client.get("/api/raters/nobody", headers=bearer(bob)).status_code == 404


def test_a_database_from_before_tokens_is_migrated_and_needs_a_new_token(panel, tmp_path, capsys):
    db = tmp_path / "ratings.sqlite"
    with sqlite3.connect(db) as con:  # the schema and rows of the app before rater tokens
        con.executescript("""
            CREATE TABLE raters (rater TEXT PRIMARY KEY, seed INTEGER NOT NULL,
                                 track_order TEXT NOT NULL, created_at TEXT NOT NULL);
            CREATE TABLE ratings (id INTEGER PRIMARY KEY, track TEXT NOT NULL,
                                  rater TEXT NOT NULL REFERENCES raters(rater), rating REAL,
                                  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
                                  n_answers INTEGER NOT NULL DEFAULT 1, UNIQUE (track, rater));
            INSERT INTO raters VALUES ('dave', 1, '["track1", "track0", "track2", "track3"]', 't');
            INSERT INTO ratings VALUES (1, 'track1', 'dave', 0.25, 't', 't', 1);
        """)
    with live_server(create_app(panel, db_path=db, session_size=2)) as url, \
            httpx.Client(base_url=url) as client:
        assert client.post("/api/raters", json={"rater": "dave"}).status_code == 409
        assert client.post("/api/raters", json={"rater": "dave"},
                           headers=bearer("x")).status_code == 403
        anonymous = client.post("/api/ratings",
                                json={"rater": "dave", "track": "track0", "rating": 1.0})
        assert anonymous.status_code == 401
        # The organiser hands out a resume link; its token works, an older one no longer.
        assert main(["listen", "token", str(panel), "dave", "--db", str(db),
                     "--url", "http://lab-pc:8000/"]) == 0
        link = capsys.readouterr().out.split()[-1]
        assert link.startswith("http://lab-pc:8000/#rater=dave&token=")
        token = link.rpartition("token=")[2]
        state = client.get("/api/raters/dave", headers=bearer(token)).json()
        assert (state["n_done"], state["next"]["track"]) == (1, "track0")
        assert rate(client, "dave", "track0", 1.0, token).status_code == 200
        assert main(["listen", "token", str(panel), "dave", "--db", str(db)]) == 0
        assert rate(client, "dave", "track2", 1.0, token).status_code == 403
    assert db_rows(db) == [("track0", "dave", 1.0, 1), ("track1", "dave", 0.25, 1)]
    # The start step was added as a column: unknown (NULL) for the old answer.
    assert db_start_steps(db) == {"track0": start_step("dave", "track0", 17), "track1": None}


def db_start_steps(db):
    with sqlite3.connect(db) as con:
        return dict(con.execute("SELECT track, start_step FROM ratings"))


def test_the_slider_starts_at_the_servers_random_step_stored_with_the_answer(client, server):
    token = register(client, "grace")
    state = client.get("/api/raters/grace", headers=bearer(token)).json()
    starts = {}
    while not state["done"]:
        track = state["next"]["track"]
        starts[track] = state["next"]["start"]
        assert starts[track] == start_step("grace", track, 17)
        # A reload shows the track as before.
        again = client.get("/api/raters/grace", headers=bearer(token)).json()
        assert again["next"]["start"] == starts[track]
        answer = 0.5 if len(starts) % 2 else None  # declines keep their start too
        state = rate(client, "grace", track, answer, token).json()["state"]
    assert len(starts) == 4 and db_start_steps(server[1]) == starts
    assert {r["track"]: r["start_step"] for r in RatingStore(server[1]).rows()} == starts


def test_start_steps_cover_the_scale_and_differ_between_tracks_and_raters():
    steps = np.array([[start_step(r, f"track{i}", 17) for i in range(400)] for r in ("a", "b")])
    assert set(steps.ravel()) == set(range(17))
    counts = np.bincount(steps.ravel(), minlength=17)
    assert counts.min() > 800 / 17 / 3  # no step rare (uniform would give 47 each)
    assert np.mean(steps[0] == steps[1]) < 0.2  # raters start differently on a track
    with pytest.raises(ValueError, match="n_steps"):
        start_step("a", "t", 0)


def test_a_file_that_is_not_a_ratings_database_is_refused_clearly(panel, tmp_path):
    text = tmp_path / "notes.sqlite"
    text.write_text("not a database at all, but long enough to have a header " * 4)
    with pytest.raises(ValueError, match="not a listening-test ratings database"):
        RatingStore(text)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as con:  # a database of something else, with a 'ratings' table
        con.execute("CREATE TABLE ratings (movie TEXT, stars INTEGER)")
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['created_at'"):
        RatingStore(other)
    with pytest.raises(ValueError, match="not a listening-test ratings database"):
        create_app(panel, db_path=other)


def test_token_command_refuses_unknown_raters_and_missing_databases(panel, tmp_path, capsys):
    db = tmp_path / "ratings.sqlite"
    assert main(["listen", "token", str(panel), "erin", "--db", str(db)]) == 2
    assert "no ratings database" in capsys.readouterr().err and not db.exists()
    RatingStore(db).register("frank", ["track0"])
    assert main(["listen", "token", str(panel), "erin", "--db", str(db)]) == 2
    assert "unknown rater 'erin'" in capsys.readouterr().err
    assert main(["listen", "token", str(panel), "../x", "--db", str(db)]) == 2
    assert "not a valid identifier" in capsys.readouterr().err


@pytest.mark.parametrize("host", [
    "evil.example",
    "evil.example:{port}",
    "127.0.0.1.evil.example:{port}",
    "localhost.evil.example",
    "evil.example@127.0.0.1:{port}",
    "127.0.0.1:{port}/x",
    "[::2]:{port}",
    "[nonsense]:{port}",
    "",
])
def test_requests_for_another_host_are_refused(shared_server, host):
    """DNS rebinding: a page's own domain resolves to 127.0.0.1, its Host header still names it."""
    url, db = shared_server
    port = url.rpartition(":")[2]
    with httpx.Client(base_url=url) as client:
        for method, path, body in [("GET", "/", None), ("GET", "/api/panel", None),
                                   ("POST", "/api/raters", {"rater": "mallory"}),
                                   ("GET", "/audio/track0/v00.flac", None)]:
            response = client.request(method, path, json=body,
                                      headers={"Host": host.format(port=port)})
            assert response.status_code == 400
            assert "is not an address of this server" in response.json()["error"]
    assert "mallory" not in [r[0] for r in db_raters(db)]


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LocalHost",
                                  "[::1]:{port}", "[0:0:0:0:0:0:0:1]", "127.0.0.1"])
def test_requests_for_a_served_host_are_answered(shared_server, host):
    url = shared_server[0]
    with httpx.Client(base_url=url) as client:
        response = client.get("/api/panel",
                              headers={"Host": host.format(port=url.rpartition(":")[2])})
    assert response.status_code == 200 and response.json()["n_tracks"] == 4


def test_allowed_hosts_adds_names_and_is_checked(panel, tmp_path):
    app = create_app(panel, db_path=tmp_path / "r.sqlite",
                     allowed_hosts=["Lab-PC.local", "192.168.1.20", "fe80::1"])
    with live_server(app) as url, httpx.Client(base_url=url) as client:
        for host, status in [("lab-pc.local:8000", 200), ("192.168.1.20", 200),
                             ("[fe80::1]:80", 200), ("localhost", 200), ("192.168.1.21", 400),
                             ("other.local", 400)]:
            assert client.get("/api/panel", headers={"Host": host}).status_code == status, host
    for bad in ["localhost:8000", "http://lab-pc", "lab pc", ""]:
        with pytest.raises(ValueError, match="not a host name or IP address"):
            create_app(panel, allowed_hosts=[bad])
    for bad in ["lab-pc", [None]]:
        with pytest.raises(TypeError, match="allowed_hosts"):
            create_app(panel, allowed_hosts=bad)


def test_serve_allows_the_bound_address_and_allowed_hosts(panel, monkeypatch, capsys):
    apps = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: apps.append(app))
    db = str(panel.parent / "serve.sqlite")
    assert main(["listen", "serve", str(panel), "--db", db, "--host", "10.1.2.3",
                 "--allowed-host", "lab-pc"]) == 0
    assert main(["listen", "serve", str(panel), "--db", db, "--host", "0.0.0.0"]) == 0
    assert "--allowed-host" in capsys.readouterr().out
    expected = [{"10.1.2.3": 200, "lab-pc": 200, "localhost": 200, "0.0.0.0": 400,
                 "evil.example": 400},
                {"0.0.0.0": 400, "localhost": 200, "127.0.0.1": 200, "10.1.2.3": 400}]
    for app, statuses in zip(apps, expected):
        with live_server(app) as url, httpx.Client(base_url=url) as client:
            got = {h: client.get("/api/panel", headers={"Host": h}).status_code for h in statuses}
            assert got == statuses


GOOD = {"rater": "carol", "track": "track1", "rating": 0.5}


@pytest.fixture(scope="module")
def carol(shared_server):
    """The token of rater carol on the shared server."""
    with httpx.Client(base_url=shared_server[0]) as client:
        return register(client, "carol")


@pytest.mark.parametrize("body, status, message", [
    ("{not json", 400, "not valid JSON"),
    ("[1, 2]", 400, "JSON object"),
    ("[" * 5000 + "]" * 5000, 400, "nested too deeply"),
    ('{"rater": "carol", "track": "track1", "rating": 0.5, "x": ' + "[" * 5000 + "]" * 5000 + "}",
     400, "nested too deeply"),
    ('{"rater": "carol", "track": ' + '{"a": ' * 2000 + "1" + "}" * 2000 + ', "rating": 0.5}',
     400, "nested too deeply"),
    ('{"rater": "carol", "track": "track1", "rating": 0.5, "rating": 1.0}',
     400, "duplicate key 'rating'"),
    (b'{"rater": "carol", "track": "track\xff", "rating": 0.5}', 400, "not valid JSON"),
    ("", 400, "not valid JSON"),
    ('{"rater": "carol", "track": "track1", "rating": ' + "1" * 5000 + "}", 400, "not valid JSON"),
    ('{"rater": "carol", "track": "track1", "rating": 1e400}', 422, "not one of the 17 steps"),
    (json.dumps({**GOOD, "rating": [0.5]}), 400, "wrong type list"),
    (json.dumps({**GOOD, "rating": {"value": 0.5}}), 400, "wrong type dict"),
    (json.dumps({"rater": "carol", "track": "track1"}), 400, "missing ['rating']"),
    (json.dumps({**GOOD, "comment": "x"}), 400, "unexpected ['comment']"),
    (json.dumps({**GOOD, "rating": "0.5"}), 400, "wrong type str"),
    (json.dumps({**GOOD, "rating": True}), 400, "wrong type bool"),
    (json.dumps({**GOOD, "track": 1}), 400, "wrong type int"),
    (json.dumps({**GOOD, "rater": None}), 400, "wrong type NoneType"),
    (json.dumps({**GOOD, "rating": 0.3}), 422, "not one of the 17 steps"),
    (json.dumps({**GOOD, "rating": -0.0625}), 422, "not one of the 17 steps"),
    (json.dumps({**GOOD, "rating": 1.0625}), 422, "not one of the 17 steps"),
    ('{"rater": "carol", "track": "track1", "rating": NaN}', 422, "not one of the 17 steps"),
    (json.dumps({**GOOD, "track": "track9"}), 404, "unknown track"),
    (json.dumps({**GOOD, "track": "../manifest"}), 404, "unknown track"),
    (json.dumps({**GOOD, "rater": "mallory"}), 404, "unknown rater"),
    (json.dumps({**GOOD, "comment": "x" * 20000}), 413, "larger than"),
    ("[" * 20000, 413, "larger than"),
])
def test_bad_ratings_are_refused_and_nothing_is_stored(shared_server, carol, body, status, message):
    url, db = shared_server
    with httpx.Client(base_url=url) as client:
        response = client.post("/api/ratings", content=body,
                               headers={"Content-Type": "application/json", **bearer(carol)})
    assert response.status_code == status
    assert message in response.json()["error"]
    assert db_rows(db) == []


@pytest.mark.parametrize("body", ["[" * 5000, "[" * 5000 + "]" * 5000,
                                  '{"rater": ' * 1200 + '"x"' + "}" * 1200])
def test_deeply_nested_registrations_are_refused(shared_server, body):
    with httpx.Client(base_url=shared_server[0]) as client:
        response = client.post("/api/raters", content=body,
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "nested too deeply" in response.json()["error"]


def test_bad_requests_to_the_other_endpoints(client, server):
    plain = client.post("/api/ratings", content=json.dumps(GOOD),
                        headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415 and "application/json" in plain.json()["error"]
    for rater in ["", "  ", "../etc", "a" * 65, "<script>"]:
        response = client.post("/api/raters", json={"rater": rater})
        assert response.status_code == 400 and "not a valid identifier" in response.json()["error"]
    assert client.post("/api/raters", json={"rater": 7}).status_code == 400
    assert client.get("/api/raters/nobody", headers=bearer("x")).status_code == 404
    assert client.get("/api/ratings").status_code == 405
    with sqlite3.connect(server[1]) as con:
        assert con.execute("SELECT COUNT(*) FROM raters").fetchone() == (0,)


def raw_get(url, path):
    """GET ``path`` exactly as written (no client-side normalisation of '..')."""
    host, port = url.removeprefix("http://").split(":")
    con = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        con.putrequest("GET", path, skip_host=False, skip_accept_encoding=True)
        con.endheaders()
        response = con.getresponse()
        return response.status, response.read()
    finally:
        con.close()


@pytest.mark.parametrize("path", [
    "/audio/../../etc/passwd",
    "/audio/../manifest.json",
    "/audio/..%2f..%2fetc%2fpasswd",
    "/audio/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/audio/track0/..%2F..%2Fmanifest.json",
    "/audio/%2fetc%2fpasswd",
    "/audio//etc/passwd",
    "/audio/..%5c..%5cmanifest.json",
    "/audio/track0/%00v00.flac",
    "/audio/track0/track.json",
    "/audio/track0",
    "/audio/%252e%252e/manifest.json",
])
def test_audio_paths_cannot_leave_the_panel(shared_server, path):
    status, body = raw_get(shared_server[0], path)
    assert 400 <= status < 500
    assert b"root:" not in body and b"factors" not in body


def test_audio_files_are_served(shared_server, panel):
    status, body = raw_get(shared_server[0], "/audio/track3/v16.flac")
    assert status == 200 and body == (panel / "audio" / "track3" / "v16.flac").read_bytes()
    with httpx.Client(base_url=shared_server[0]) as client:
        noise = client.get(client.get("/api/panel").json()["noise"]["url"])
        assert noise.status_code == 200 and noise.headers["content-type"] == "audio/flac"
        page = client.get("/")
        assert page.status_code == 200 and 'id="slider"' in page.text
        assert client.get("/static/app.js").status_code == 200
        assert client.get("/static/../manifest.json").status_code == 404


def test_server_binds_to_localhost_by_default(panel, monkeypatch):
    assert DEFAULT_HOST == "127.0.0.1"
    args = build_parser().parse_args(["listen", "serve", str(panel)])
    assert (args.host, args.port) == ("127.0.0.1", 8000)
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    assert main(["listen", "serve", str(panel), "--db", str(panel.parent / "x.sqlite")]) == 0
    assert calls[0]["host"] == "127.0.0.1"


def test_twenty_raters_posting_at_once_lose_and_duplicate_nothing(server):
    url, db = server
    n_raters, tracks = 20, ["track0", "track1", "track2", "track3"]
    expected = {}
    rng = np.random.default_rng(0)
    for r in range(n_raters):
        for t in tracks:
            step = int(rng.integers(-1, 17))
            expected[(t, f"rater{r:02d}")] = None if step < 0 else step / 16
    barrier = threading.Barrier(n_raters)
    errors = []

    def rater(r):
        name = f"rater{r:02d}"
        try:
            with httpx.Client(base_url=url, timeout=30) as c:
                token = register(c, name)
                barrier.wait(timeout=30)
                for t in tracks:
                    assert rate(c, name, t, expected[(t, name)], token).status_code == 200
                # A retried request (lost response) must update, not duplicate.
                assert rate(c, name, tracks[0], expected[(tracks[0], name)],
                            token).json()["updated"]
        except Exception as exc:  # collected: assertion errors in threads do not fail the test
            errors.append(repr(exc))

    threads = [threading.Thread(target=rater, args=(r,)) for r in range(n_raters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    rows = db_rows(db)
    assert len(rows) == n_raters * len(tracks)
    assert {(t, r): v for t, r, v, _ in rows} == expected
    assert {(t, n) for t, _, _, n in rows} == {(t, 2 if t == tracks[0] else 1) for t in tracks}


def test_export_writes_exactly_the_stored_ratings(client, server, panel, tmp_path, capsys):
    tokens = {rater: register(client, rater) for rater in ["s01", "s02"]}
    rate(client, "s01", "track0", 0.125, tokens["s01"])
    rate(client, "s01", "track1", None, tokens["s01"])
    rate(client, "s02", "track1", 1.0, tokens["s02"])
    csv_path = tmp_path / "ratings.csv"
    assert main(["listen", "export", str(panel), str(csv_path), "--db", str(server[1])]) == 0
    assert "3 ratings (1 declined) of 2 rater(s)" in capsys.readouterr().out
    with open(csv_path, newline="") as fh:
        rows = [(r["track"], r["rater"], float(r["rating"]) if r["rating"] else None)
                for r in csv.DictReader(fh)]
    assert rows == [("track0", "s01", 0.125), ("track1", "s01", None), ("track1", "s02", 1.0)]
    wide = load_ratings(csv_path)
    assert wide.loc["track0", "s01"] == 0.125 and np.isnan(wide.loc["track1", "s01"])
    assert np.isnan(wide.loc["track0", "s02"])  # never rated: missing, like declined


def test_export_refuses_without_ratings(tmp_path, capsys):
    with pytest.raises(ValueError, match="no ratings database"):
        export_ratings(tmp_path, tmp_path / "out.csv")
    RatingStore(tmp_path / "ratings.sqlite")
    assert main(["listen", "export", str(tmp_path), str(tmp_path / "out.csv")]) == 2
    assert "no ratings yet" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


def test_serve_refuses_a_folder_that_is_not_a_panel(tmp_path, capsys):
    assert main(["listen", "serve", str(tmp_path)]) == 2
    assert "not a prepared panel" in capsys.readouterr().err
    (tmp_path / "manifest.json").write_text('{"tracks": "oops"}')
    assert main(["listen", "serve", str(tmp_path)]) == 2
    assert "not a valid panel manifest" in capsys.readouterr().err


def test_serve_refuses_a_panel_with_missing_audio(tmp_path, capsys):
    panel = make_panel(tmp_path, n_tracks=1, seconds=0.5, n_steps=2)
    (panel / "audio" / "track0" / "v01.flac").unlink()
    assert main(["listen", "serve", str(panel)]) == 2
    assert "audio/track0/v01.flac" in capsys.readouterr().err
