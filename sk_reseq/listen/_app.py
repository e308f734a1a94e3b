"""The listening-test web app (Starlette, served by uvicorn).

HTTP API (JSON bodies, ``Content-Type: application/json``; errors are
``{"error": message}`` with a 4xx status):

``GET  /api/panel``            factors, number of tracks, session size, noise reference
``POST /api/raters``           ``{"rater": id}``: a new rater -> 201
                               ``{"token": secret, "state": ...}``; a registered rater resumes
                               with their token -> 200 ``{"state": ...}`` (409 without a token,
                               403 with a wrong one)
``GET  /api/raters/{rater}``   rater state (token required; 404 for an unknown rater)
``POST /api/ratings``          ``{"rater": id, "track": id, "rating": factor or null}``, token
                               required (null = "none acceptable")
                               -> ``{"updated": bool, "state": ...}``
``GET  /audio/{path}``         a variant or the noise reference, only files the manifest lists

A rater state holds the progress and the next track with its variant URLs
and ``start``, the step at which the slider starts (:func:`start_step`, a
random step per rater and track, stored with the answer); the browser
(``static/app.js``) does the rest. The page shows no factor values, only a
neutral scale (less - more attenuation).

The rater's secret token, handed out once at registration, goes in an
``Authorization: Bearer TOKEN`` header: without it a rater endpoint answers
401, with a wrong one (another rater's) 403, and nothing is stored or shown.
The page keeps it in the browser's localStorage; ``sk-reseq listen token``
issues a new one for a rater who lost it.

Against other web sites, which a rater's browser may have open: a
cross-origin request with a JSON body or an Authorization header needs a
CORS preflight this app never grants, and a foreign page cannot read the
token. Every request's Host header must name this server (127.0.0.1,
localhost, ::1 or an address given in ``allowed_hosts``), else 400: that
stops DNS rebinding, a page pointing its own domain at 127.0.0.1 to reach
this server as a same-origin site.
"""

import ipaddress
import json
import logging
import math
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

try:
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.datastructures import Headers
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.responses import FileResponse, JSONResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "sk_reseq.listen needs the `listen` extra: pip install 'sk_reseq[listen]'"
    ) from exc

from ._db import RatingStore, check_rater_id, start_step
from ._prepare import MANIFEST_NAME

__all__ = ["create_app", "DEFAULT_HOST", "DEFAULT_PORT"]

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Host names always served: a DNS-rebinding page cannot send these, its Host is its own domain.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MAX_BODY_BYTES = 16 * 1024
STATIC_DIR = Path(__file__).parent / "static"
MEDIA_TYPES = {".flac": "audio/flac", ".ogg": "audio/ogg"}
# A Host header: a name or IPv4 address, or a bracketed IPv6 address; an optional port.
_HOST = re.compile(
    r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9._-]+))"
    r"(?::(?P<port>[0-9]{1,5}))?"
)


def _error(status, message, headers=None):
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _host_name(value):
    """``(name, port)`` of a Host header, the name canonical (lower case, IPv6 unbracketed).

    None for a malformed header.
    """
    match = _HOST.fullmatch(value.strip())
    if match is None:
        return None
    if match["ipv6"] is None:
        return match["name"].lower(), match["port"]
    try:
        return str(ipaddress.IPv6Address(match["ipv6"])), match["port"]
    except ValueError:
        return None


def _check_allowed_hosts(allowed_hosts):
    """The canonical names of the loopback hosts and ``allowed_hosts``."""
    if allowed_hosts is None:
        allowed_hosts = ()
    if isinstance(allowed_hosts, str) or not isinstance(allowed_hosts, Iterable):
        raise TypeError("allowed_hosts must be a list of host names or addresses, "
                        f"got {allowed_hosts!r}.")
    names = []
    for host in list(LOOPBACK_HOSTS) + list(allowed_hosts):
        if not isinstance(host, str):
            raise TypeError(f"allowed_hosts must hold strings, got {host!r}.")
        try:
            names.append(str(ipaddress.ip_address(host.strip().strip("[]"))))
            continue
        except ValueError:
            pass
        parsed = _host_name(host)
        if parsed is None or parsed[1] is not None:
            raise ValueError(f"allowed_hosts: {host!r} is not a host name or IP address "
                             "(give it without port or scheme, e.g. 'lab-pc.local' or "
                             "'192.168.1.20').")
        names.append(parsed[0])
    return tuple(dict.fromkeys(names))


class _HostCheck:
    """ASGI middleware: answer 400 to a request whose Host header names no served host.

    Only the name is compared: a rebinding page reaches the server's own
    port anyway, and its Host still carries its own domain.
    """

    def __init__(self, app, allowed):
        self.app = app
        self.allowed = frozenset(allowed)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            host = Headers(scope=scope).get("host", "")
            parsed = _host_name(host)
            if parsed is None or parsed[0] not in self.allowed:
                served = ", ".join(sorted(self.allowed))
                response = _error(400, f"Host {host!r} is not an address of this server, "
                                       f"which answers only requests for {served}; to reach it "
                                       "under another name, start it with that name allowed "
                                       "(`sk-reseq listen serve --allowed-host NAME`).")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def load_manifest(panel_dir):
    """Read and check ``PANEL_DIR/manifest.json``; raise ValueError when unusable."""
    path = Path(panel_dir) / MANIFEST_NAME
    try:
        with open(path, encoding="utf-8") as fh:
            manifest = json.load(fh)
        tracks = manifest["tracks"]
        factors = [float(f) for f in manifest["factors"]]
        for track in tracks:
            if len(track["variants"]) != len(factors):
                raise ValueError(f"track {track['id']!r} has {len(track['variants'])} variants, "
                                 f"expected {len(factors)}")
        manifest["noise"]["file"]
    except FileNotFoundError:
        raise ValueError(f"{str(panel_dir)!r} is not a prepared panel: {MANIFEST_NAME} is missing "
                         "(run `sk-reseq listen prepare AUDIO_DIR PANEL_DIR` first).") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{str(path)!r} is not a valid panel manifest: {exc}") from None
    if not tracks:
        raise ValueError(f"{str(path)!r} lists no tracks.")
    return manifest


class _Panel:
    """The manifest, the store and the rules the endpoints share."""

    def __init__(self, panel_dir, db_path, session_size):
        self.dir = Path(panel_dir).resolve()
        self.manifest = load_manifest(self.dir)
        self.factors = [float(f) for f in self.manifest["factors"]]
        self.tracks = {t["id"]: t for t in self.manifest["tracks"]}
        self.session_size = session_size
        self.store = RatingStore(db_path if db_path is not None else self.dir / "ratings.sqlite")
        self.audio_root = (self.dir / "audio").resolve()
        noise_file = self.manifest["noise"]["file"]
        self.files = {noise_file} | {
            v["file"] for t in self.manifest["tracks"] for v in t["variants"]
        }
        missing = sorted(f for f in self.files if not (self.dir / f).is_file())
        if missing:
            raise ValueError(f"{len(missing)} audio file(s) listed in the manifest are missing "
                             f"(first: {missing[0]}); run `sk-reseq listen prepare` again to "
                             "restore them.")

    def state(self, rater, order):
        done = self.store.ratings(rater)
        remaining = [t for t in order if t not in done]
        n_done = len(order) - len(remaining)
        n = self.session_size
        state = {
            "rater": rater,
            "n_tracks": len(order),
            "n_done": n_done,
            "session": n_done // n + 1 if remaining else math.ceil(n_done / n),
            "n_sessions": math.ceil(len(order) / n),
            "session_size": n,
            "at_break": bool(remaining) and n_done > 0 and n_done % n == 0,
            "done": not remaining,
            "next": None,
        }
        if remaining:
            track = self.tracks[remaining[0]]
            state["next"] = {
                "track": track["id"],
                "position": n_done + 1,
                "duration": track["duration"],
                "start": start_step(rater, track["id"], len(self.factors)),
                "variants": [
                    {"factor": v["factor"], "url": "/" + v["file"]} for v in track["variants"]
                ],
            }
        return state

    def check_rating(self, rating):
        if rating is None:
            return None
        if isinstance(rating, bool) or not isinstance(rating, (int, float)):
            raise HTTPException(400, "rating must be a number or null (declined), "
                                     f"got {type(rating).__name__}.")
        for factor in self.factors:
            if abs(rating - factor) < 1e-9:
                return factor
        steps = len(self.factors) - 1
        raise HTTPException(422, f"rating {rating!r} is not one of the {len(self.factors)} steps "
                                 f"0, 1/{steps}, ..., 1 (k/{steps} for k = 0..{steps}).")

    async def authorize(self, request, rater):
        """Return if ``request`` carries the token of ``rater``, else raise the 401/403/404."""
        token = _bearer_token(request)
        if token is None:
            raise HTTPException(401, f"the token of rater {rater!r} is missing: send it as "
                                     "`Authorization: Bearer TOKEN` (POST /api/raters hands it "
                                     "out).",
                                headers={"WWW-Authenticate": "Bearer"})
        try:
            valid = await run_in_threadpool(self.store.check_token, rater, token)
        except KeyError:
            raise HTTPException(404, f"unknown rater {rater!r}: register with POST /api/raters "
                                     "first.") from None
        if not valid:
            raise HTTPException(403, f"wrong token for rater {rater!r}: only the browser that "
                                     "registered this rater (or one given a new token) may rate or "
                                     "resume as them.")


def _bearer_token(request):
    """The token of an ``Authorization: Bearer TOKEN`` header, or None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _unique_keys(pairs):
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        # json.loads would keep the last value; an ambiguous request is refused instead.
        raise ValueError(f"duplicate key {next(k for k in keys if keys.count(k) > 1)!r}")
    return dict(pairs)


async def _json_body(request, fields):
    """The request's JSON object with exactly ``fields`` (name -> accepted types)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise HTTPException(415, f"Content-Type must be application/json, got {ctype or 'none'!r}.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(413, f"request body larger than {MAX_BODY_BYTES} bytes.")
    try:
        data = json.loads(body, object_pairs_hook=_unique_keys)
    except ValueError as exc:  # also UnicodeDecodeError (not UTF-8)
        raise HTTPException(400, f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise HTTPException(400, "request body is nested too deeply: it must be a flat JSON object "
                                 f"with the fields {sorted(fields)}.") from None
    if not isinstance(data, dict):
        raise HTTPException(400, f"request body must be a JSON object, got {type(data).__name__}.")
    missing = [f for f in fields if f not in data]
    extra = sorted(set(data) - set(fields))
    if missing or extra:
        raise HTTPException(400, f"request body must have exactly the fields {sorted(fields)}; "
                                 f"missing {missing}, unexpected {extra}.")
    for name, types in fields.items():
        if not isinstance(data[name], types) or isinstance(data[name], bool) and bool not in types:
            raise HTTPException(400, f"field {name!r} has the wrong type "
                                     f"{type(data[name]).__name__}.")
    return data


def create_app(panel_dir, *, db_path=None, session_size=50, allowed_hosts=None):
    """The listening-test ASGI application for a prepared panel.

    Parameters
    ----------
    panel_dir : str or path-like
        A folder written by :func:`prepare_panel`.
    db_path : str or path-like, optional
        SQLite file of the ratings (default ``PANEL_DIR/ratings.sqlite``).
    session_size : int
        Tracks per session; a break screen follows each session (the paper: 50).
    allowed_hosts : list of str, optional
        Host names or IP addresses (no port) under which browsers reach the
        server, besides ``127.0.0.1``, ``localhost`` and ``::1`` (always
        served): e.g. the address it is bound to. A request whose Host
        header names another host gets 400 (this stops DNS rebinding).

    Returns
    -------
    app : starlette.applications.Starlette

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from sk_reseq.audio import save_audio
    >>> from sk_reseq.listen import create_app, prepare_panel
    >>> src, panel = pathlib.Path(tempfile.mkdtemp()), pathlib.Path(tempfile.mkdtemp())
    >>> save_audio(src / "a.wav", 0.1 * np.random.default_rng(0).standard_normal((1, 8000)), 8000)
    >>> _ = prepare_panel(src, panel, n_steps=3, noise_seconds=0.5)
    >>> app = create_app(panel, session_size=50)
    >>> [route.path for route in app.routes][:5]
    ['/', '/api/panel', '/api/raters', '/api/raters/{rater}', '/api/ratings']

    Serve it with ``uvicorn.run(app, host="127.0.0.1", port=8000)`` or
    ``sk-reseq listen serve PANEL_DIR``.
    """
    if isinstance(session_size, bool) or not isinstance(session_size, int) or session_size < 1:
        raise ValueError(f"session_size must be a positive integer, got {session_size!r}.")
    allowed = _check_allowed_hosts(allowed_hosts)
    panel = _Panel(panel_dir, db_path, session_size)

    async def index(request):
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    async def panel_info(request):
        noise = panel.manifest["noise"]
        return JSONResponse({
            "n_tracks": len(panel.tracks),
            "factors": panel.factors,
            "session_size": panel.session_size,
            "noise": {"url": "/" + noise["file"], "duration": noise["duration"]},
        })

    async def state(rater):
        order = await run_in_threadpool(panel.store.order, rater, list(panel.tracks))
        return await run_in_threadpool(panel.state, rater, order)

    async def register(request):
        data = await _json_body(request, {"rater": (str,)})
        try:
            rater = check_rater_id(data["rater"])
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        token = await run_in_threadpool(panel.store.register, rater, list(panel.tracks))
        if token is not None:
            return JSONResponse({"token": token, "state": await state(rater)}, status_code=201)
        # A taken name: resuming needs the rater's token, so nobody gets another rater's ratings.
        if _bearer_token(request) is None:
            raise HTTPException(409, f"the identifier {rater!r} is already taken. If it is "
                                     "yours, continue in the browser where you started, or ask "
                                     "the organiser of the test for a resume link; otherwise "
                                     "choose another identifier.")
        await panel.authorize(request, rater)
        return JSONResponse({"state": await state(rater)})

    async def rater_state(request):
        rater = request.path_params["rater"]
        await panel.authorize(request, rater)
        return JSONResponse(await state(rater))

    async def rate(request):
        data = await _json_body(request, {"rater": (str,), "track": (str,),
                                          "rating": (int, float, type(None))})
        rater, track = data["rater"], data["track"]
        await panel.authorize(request, rater)
        rating = panel.check_rating(data["rating"])
        if track not in panel.tracks:
            raise HTTPException(404, f"unknown track {track!r}: not in this panel.")
        # The step the page started this track's slider at: the server's, not the client's word.
        updated = await run_in_threadpool(panel.store.rate, rater, track, rating,
                                          start_step(rater, track, len(panel.factors)))
        logger.info("rating %s %s %s%s", rater, track, rating, " (updated)" if updated else "")
        return JSONResponse({"updated": updated, "state": await state(rater)})

    async def audio(request):
        path = request.path_params["path"]
        parts = path.split("/")
        if ("\x00" in path or "\\" in path or path.startswith("/")
                or any(p in ("", ".", "..") for p in parts)):
            raise HTTPException(400, "invalid audio path: it must name a file inside the panel "
                                     "(no '..', '.', empty segments, backslashes or absolute "
                                     "paths).")
        target = (panel.audio_root / PurePosixPath(path)).resolve()
        if not target.is_relative_to(panel.audio_root):
            raise HTTPException(400, "invalid audio path: it leaves the panel folder.")
        rel = "audio/" + path
        if rel not in panel.files or not target.is_file():
            raise HTTPException(404, f"no audio file {path!r} in this panel.")
        return FileResponse(target,
                            media_type=MEDIA_TYPES.get(target.suffix, "application/octet-stream"),
                            headers={"Cache-Control": "private, max-age=3600"})

    async def http_error(request, exc):
        return _error(exc.status_code, exc.detail, exc.headers)

    routes = [
        Route("/", index),
        Route("/api/panel", panel_info),
        Route("/api/raters", register, methods=["POST"]),
        Route("/api/raters/{rater}", rater_state),
        Route("/api/ratings", rate, methods=["POST"]),
        Route("/audio/{path:path}", audio),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error},
                    middleware=[Middleware(_HostCheck, allowed=allowed)])
    app.state.panel = panel
    return app
