"""``sk-reseq listen prepare|serve|token|export``: run the paper's listening test."""

import ipaddress
from pathlib import Path
from urllib.parse import urlencode

from . import COMMANDS

# sk_reseq.listen needs the `listen` extra (starlette, uvicorn, pandas): it is
# imported inside the commands so that `sk-reseq --help` works without it.


def _prepare(args):
    from ..listen import prepare_panel

    manifest = prepare_panel(
        args.audio_dir, args.panel_dir, target_lufs=args.target_lufs,
        peak_ceiling_dbfs=args.peak_ceiling, codec=args.codec, quality=args.quality,
        max_seconds=args.max_seconds, n_jobs=args.n_jobs, match_loudness=args.match_loudness,
        noise_seconds=args.noise_seconds, silence_seconds=args.silence_seconds,
        progress=not args.quiet,
    )
    limited = [t["id"] for t in manifest["tracks"] if t["peak_limited"]]
    print(f"{len(manifest['tracks'])} tracks in {args.panel_dir} "
          f"({len(manifest['rendered'])} rendered, {len(manifest['skipped'])} already done); "
          f"target {manifest['target_lufs']:g} LUFS, {len(manifest['factors'])} variants each"
          f"{' (loudness-matched)' if manifest['match_loudness'] else ''}, {manifest['codec']}.")
    if limited:
        print(f"Peak guard lowered {len(limited)} track(s) below the target: {', '.join(limited)}")
    return 0


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_wildcard(host):
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def _serve(args):
    import uvicorn

    from ..listen import create_app

    # Browsers may address the server by the address it is bound to; a wildcard
    # address (0.0.0.0, ::) names no host, so other names come from --allowed-host.
    allowed = ([] if _is_wildcard(args.host) else [args.host]) + args.allowed_host
    app = create_app(args.panel_dir, db_path=args.db, session_size=args.session_size,
                     allowed_hosts=allowed)
    if not _is_loopback(args.host):
        print(f"Warning: listening on {args.host}: anyone who can reach this address can register "
              "and rate (each rater only as themselves).")
    if _is_wildcard(args.host) and not args.allowed_host:
        print("Note: only requests addressed to this machine as 127.0.0.1 or localhost are "
              "answered; pass --allowed-host NAME for each name or address other machines use.")
    print(f"Listening test on http://{args.host}:{args.port}/  (Ctrl+C to stop)")
    uvicorn.run(app, host=args.host, port=args.port,
                log_level="info" if args.verbose else "warning")
    return 0


def _token(args):
    from ..listen import RatingStore, check_rater_id

    rater = check_rater_id(args.rater)
    db = Path(args.db) if args.db is not None else Path(args.panel_dir) / "ratings.sqlite"
    if not db.is_file():  # RatingStore would create an empty one
        raise ValueError(f"no ratings database at {str(db)!r}: nobody has registered yet.")
    try:
        token = RatingStore(db).issue_token(rater)
    except KeyError:
        raise ValueError(f"unknown rater {rater!r}: nobody registered under this identifier "
                         f"in {str(db)!r}.") from None
    # The page reads the fragment, keeps the token and removes it from the address bar;
    # a fragment never reaches the server's logs.
    link = f"{args.url.rstrip('/')}/#{urlencode({'rater': rater, 'token': token})}"
    print(f"New token for rater {rater!r}; their old one no longer works. Open this link in "
          "the rater's browser to resume (it holds their secret: give it to them only):"
          f"\n  {link}")
    return 0


def _export(args):
    from ..listen import export_ratings

    frame = export_ratings(args.panel_dir, args.ratings_csv, db_path=args.db)
    declined = int(frame["rating"].isna().sum())
    print(f"Wrote {len(frame)} ratings ({declined} declined) of "
          f"{frame['rater'].nunique()} rater(s) on {frame['track'].nunique()} track(s) "
          f"to {args.ratings_csv}")
    return 0


def register(subparsers):
    """Add the ``listen`` command and its sub-commands."""
    parser = subparsers.add_parser(
        "listen", help=COMMANDS["listen"],
        description="The paper's listening test (section 3.3) as a web app.")
    sub = parser.add_subparsers(dest="listen_command", metavar="STEP")
    sub.required = True

    p = sub.add_parser("prepare", help="loudness-align tracks and render their 17 variants",
                       description="Loudness-align every audio file of AUDIO_DIR "
                                   "(ITU-R BS.1770), render it at the 17 attenuation factors "
                                   "with the resonance equalizer, bring every variant back to "
                                   "the track's loudness (unless --no-match-loudness) and write "
                                   "PANEL_DIR (resumable: finished tracks are skipped).")
    p.add_argument("audio_dir", metavar="AUDIO_DIR", help="folder of the tracks to rate")
    p.add_argument("panel_dir", metavar="PANEL_DIR",
                   help="folder to write the panel to (created; tracks an earlier run "
                        "finished are kept)")
    p.add_argument("--target-lufs", type=float, default=-23.0,
                   help="integrated loudness target in LUFS (default: -23, EBU R128)")
    p.add_argument("--no-match-loudness", dest="match_loudness", action="store_false",
                   help="keep the equalizer's loudness drop in the variants (default: every "
                        "variant is brought to --target-lufs, so that they differ by their "
                        "spectrum only and the louder one does not win)")
    p.add_argument("--peak-ceiling", type=float, default=-1.0,
                   help="highest sample peak in dBFS; louder tracks are lowered (default: -1)")
    p.add_argument("--codec", choices=["flac", "vorbis"], default="flac",
                   help="flac: lossless 16-bit (default); vorbis: ~5x smaller, lossy")
    p.add_argument("--quality", type=float, default=0.9,
                   help="Vorbis quality in (0, 1] (default: 0.9)")
    p.add_argument("--max-seconds", type=float, default=None,
                   help="keep at most this many seconds of each track (default: all); the browser "
                        "holds ~6 MB per second of stereo audio while a track plays")
    p.add_argument("--noise-seconds", type=float, default=10.0,
                   help="pink-noise reference between tracks, seconds "
                        "(default: 10, as in the paper)")
    p.add_argument("--silence-seconds", type=float, default=0.5,
                   help="silence before and after the noise, seconds (default: 0.5)")
    p.add_argument("-j", "--n-jobs", type=int, default=1,
                   help="tracks rendered in parallel (default: 1; -1: all cores)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_prepare)

    p = sub.add_parser("serve", help="serve the listening test in the browser",
                       description="Serve the listening test of PANEL_DIR; ratings go to "
                                   "PANEL_DIR/ratings.sqlite.")
    p.add_argument("panel_dir", metavar="PANEL_DIR", help="a folder from `listen prepare`")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--db", default=None,
                   help="ratings database (default: PANEL_DIR/ratings.sqlite)")
    p.add_argument("--session-size", type=int, default=50,
                   help="tracks per session before a break (default: 50)")
    p.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                   help="a host name or address browsers use to reach the server, besides "
                        "127.0.0.1, localhost and the --host address (repeatable); requests "
                        "addressed to any other name are refused, against DNS rebinding")
    p.set_defaults(func=_serve)

    p = sub.add_parser("token", help="give a rater a new token (a resume link)",
                       description="Give RATER a new secret token, for a rater who lost "
                                   "theirs (another browser, cleared browser data), and print a "
                                   "link that resumes the test with it. The old token stops "
                                   "working.")
    p.add_argument("panel_dir", metavar="PANEL_DIR", help="a folder from `listen prepare`")
    p.add_argument("rater", metavar="RATER", help="the rater's name")
    p.add_argument("--db", default=None,
                   help="ratings database (default: PANEL_DIR/ratings.sqlite)")
    p.add_argument("--url", default="http://127.0.0.1:8000",
                   help="the server's address as the rater's browser reaches it "
                        "(default: http://127.0.0.1:8000)")
    p.set_defaults(func=_token)

    p = sub.add_parser("export", help="write the ratings as a long-format CSV",
                       description="Write the ratings of PANEL_DIR as RATINGS.csv "
                                   "(track,rater,rating; empty rating = declined), the format "
                                   "load_ratings reads.")
    p.add_argument("panel_dir", metavar="PANEL_DIR", help="a folder from `listen prepare`")
    p.add_argument("ratings_csv", metavar="RATINGS.csv", help="the CSV file to write")
    p.add_argument("--db", default=None,
                   help="ratings database (default: PANEL_DIR/ratings.sqlite)")
    p.set_defaults(func=_export)
