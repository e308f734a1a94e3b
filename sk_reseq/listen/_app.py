"""The listening-test web app (Starlette, served by uvicorn).

HTTP API (JSON bodies, ``Content-Type: application/json``; errors are
``{"error": message}`` with a 4xx status):

``GET  /api/panel``            factors, number of tracks, session size, noise reference
``POST /api/raters``           ``{"rater": id}``: register (or resume) -> rater state
``GET  /api/raters/{rater}``   rater state (404 for an unknown rater)
``POST /api/ratings``          ``{"rater": id, "track": id, "rating": factor or null}``
                               (null = "none acceptable") -> ``{"updated": bool, "state": ...}``
``GET  /audio/{path}``         a variant or the noise reference, only files the manifest lists

A rater state holds the progress and the next track with its variant URLs;
the browser (``static/app.js``) does the rest. Requiring a JSON content
type also keeps other web sites from posting ratings through a rater's
browser: such a cross-origin request needs a CORS preflight this app never
grants.
"""

import json
import logging
import math
from pathlib import Path, PurePosixPath

try:
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.responses import FileResponse, JSONResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("sk_reseq.listen needs the `listen` extra: pip install 'sk_reseq[listen]'") from exc

from ._db import RatingStore, check_rater_id
from ._prepare import MANIFEST_NAME

__all__ = ["create_app", "DEFAULT_HOST", "DEFAULT_PORT"]

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
MAX_BODY_BYTES = 16 * 1024
STATIC_DIR = Path(__file__).parent / "static"
MEDIA_TYPES = {".flac": "audio/flac", ".ogg": "audio/ogg"}


class _BadRequest(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status, message):
    return JSONResponse({"error": message}, status_code=status)


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
        self.files = {noise_file} | {v["file"] for t in self.manifest["tracks"] for v in t["variants"]}
        missing = sorted(f for f in self.files if not (self.dir / f).is_file())
        if missing:
            raise ValueError(f"{len(missing)} audio file(s) listed in the manifest are missing "
                             f"(first: {missing[0]}); run `sk-reseq listen prepare` again to restore them.")

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
                "variants": [{"factor": v["factor"], "url": "/" + v["file"]} for v in track["variants"]],
            }
        return state

    def check_rating(self, rating):
        if rating is None:
            return None
        if isinstance(rating, bool) or not isinstance(rating, (int, float)):
            raise _BadRequest(400, f"rating must be a number or null (declined), got {type(rating).__name__}.")
        for factor in self.factors:
            if abs(rating - factor) < 1e-9:
                return factor
        steps = len(self.factors) - 1
        raise _BadRequest(422, f"rating {rating!r} is not one of the {len(self.factors)} steps "
                               f"0, 1/{steps}, ..., 1 (k/{steps} for k = 0..{steps}).")


async def _json_body(request, fields):
    """The request's JSON object with exactly ``fields`` (name -> accepted types)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise _BadRequest(415, f"Content-Type must be application/json, got {ctype or 'none'!r}.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise _BadRequest(413, f"request body larger than {MAX_BODY_BYTES} bytes.")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _BadRequest(400, f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _BadRequest(400, f"request body must be a JSON object, got {type(data).__name__}.")
    missing = [f for f in fields if f not in data]
    extra = sorted(set(data) - set(fields))
    if missing or extra:
        raise _BadRequest(400, f"request body must have exactly the fields {sorted(fields)}; "
                               f"missing {missing}, unexpected {extra}.")
    for name, types in fields.items():
        if not isinstance(data[name], types) or isinstance(data[name], bool) and bool not in types:
            raise _BadRequest(400, f"field {name!r} has the wrong type {type(data[name]).__name__}.")
    return data


def _handle_errors(endpoint):
    async def wrapper(request):
        try:
            return await endpoint(request)
        except _BadRequest as exc:
            return _error(exc.status, exc.message)
    return wrapper


def create_app(panel_dir, *, db_path=None, session_size=50):
    """The listening-test ASGI application for a prepared panel.

    Parameters
    ----------
    panel_dir : str or path-like
        A folder written by :func:`prepare_panel`.
    db_path : str or path-like, optional
        SQLite file of the ratings (default ``PANEL_DIR/ratings.sqlite``).
    session_size : int
        Tracks per session; a break screen follows each session (the paper: 50).

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
    panel = _Panel(panel_dir, db_path, session_size)
    from starlette.concurrency import run_in_threadpool

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

    @_handle_errors
    async def register(request):
        data = await _json_body(request, {"rater": (str,)})
        try:
            rater = check_rater_id(data["rater"])
        except ValueError as exc:
            raise _BadRequest(400, str(exc)) from None
        order = await run_in_threadpool(panel.store.register, rater, list(panel.tracks))
        return JSONResponse(await run_in_threadpool(panel.state, rater, order))

    @_handle_errors
    async def rater_state(request):
        rater = request.path_params["rater"]
        try:
            order = await run_in_threadpool(panel.store.order, rater, list(panel.tracks))
        except KeyError:
            raise _BadRequest(404, f"unknown rater {rater!r}: register with POST /api/raters first.") from None
        return JSONResponse(await run_in_threadpool(panel.state, rater, order))

    @_handle_errors
    async def rate(request):
        data = await _json_body(request, {"rater": (str,), "track": (str,),
                                          "rating": (int, float, type(None))})
        rater, track = data["rater"], data["track"]
        rating = panel.check_rating(data["rating"])
        if track not in panel.tracks:
            raise _BadRequest(404, f"unknown track {track!r}: not in this panel.")
        try:
            updated = await run_in_threadpool(panel.store.rate, rater, track, rating)
            order = await run_in_threadpool(panel.store.order, rater, list(panel.tracks))
        except KeyError:
            raise _BadRequest(404, f"unknown rater {rater!r}: register with POST /api/raters first.") from None
        logger.info("rating %s %s %s%s", rater, track, rating, " (updated)" if updated else "")
        return JSONResponse({"updated": updated, "state": await run_in_threadpool(panel.state, rater, order)})

    @_handle_errors
    async def audio(request):
        path = request.path_params["path"]
        parts = path.split("/")
        if ("\x00" in path or "\\" in path or path.startswith("/")
                or any(p in ("", ".", "..") for p in parts)):
            raise _BadRequest(400, "invalid audio path: it must name a file inside the panel "
                                   "(no '..', '.', empty segments, backslashes or absolute paths).")
        target = (panel.audio_root / PurePosixPath(path)).resolve()
        if not target.is_relative_to(panel.audio_root):
            raise _BadRequest(400, "invalid audio path: it leaves the panel folder.")
        rel = "audio/" + path
        if rel not in panel.files or not target.is_file():
            raise _BadRequest(404, f"no audio file {path!r} in this panel.")
        return FileResponse(target, media_type=MEDIA_TYPES.get(target.suffix, "application/octet-stream"),
                            headers={"Cache-Control": "private, max-age=3600"})

    async def http_error(request, exc):
        return _error(exc.status_code, exc.detail)

    routes = [
        Route("/", index),
        Route("/api/panel", panel_info),
        Route("/api/raters", register, methods=["POST"]),
        Route("/api/raters/{rater}", rater_state),
        Route("/api/ratings", rate, methods=["POST"]),
        Route("/audio/{path:path}", audio),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.panel = panel
    return app
