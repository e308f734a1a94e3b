"""``sk-reseq train``: train a factor model and save it safely."""

from pathlib import Path

from . import COMMANDS
from ._common import check_output_path, progress_bar


def register(subparsers):
    p = subparsers.add_parser(
        "train",
        help=COMMANDS["train"],
        description="Train a model on a simulated panel or a folder of rated audio and save it "
                    "(skops + safetensors, no pickle). The same arguments give the same model.",
    )
    p.add_argument("--data", default="simulated",
                   help="'simulated' (default) or a folder with audio files and ratings.csv")
    p.add_argument("--source", nargs="+", metavar="MUSIC",
                   help="music of a simulated panel: folders or files (default preset: "
                        "../shared/corpus ../shared/music; other presets: synthetic music)")
    p.add_argument("--model", choices=["resonance", "ffn", "drn"], default=None,
                   help="model family (default preset: resonance)")
    p.add_argument("--features", choices=["essentia", "resonances"], default=None,
                   help="FFN inputs: the paper's Essentia features (default) or resonances")
    p.add_argument("--preset", choices=["default", "paper", "small"], default=None,
                   help="training settings: 'default' rebuilds the shipped model from the "
                        "project root (the default with --data simulated); 'paper', the FFN on "
                        "Essentia features, learns ratings (the default with --data DIR)")
    p.add_argument("--target", choices=["ratings", "oracle"], default=None,
                   help="learn the ratings or, on a simulated panel, the oracle factor")
    p.add_argument("--variants", type=int, help="resonance variants per simulated excerpt")
    p.add_argument("--window", type=float, help="seconds of audio per prediction")
    p.add_argument("--out", required=True, metavar="MODEL", help="output file (.skops)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--n-tracks", type=int, help="tracks of a simulated panel")
    p.add_argument("--duration", type=float, help="seconds per simulated track")
    p.add_argument("--n-windows", type=int, help="windows sampled per track")
    p.add_argument("--epochs", type=int, help="maximum training epochs")
    p.add_argument("--device", help="torch device of the ffn and drn networks (default cpu); "
                                    "with a GPU (cuda) the drn is the paper's network, on the "
                                    "CPU the filterbank DRN that learns in minutes")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=run)


def run(args):
    from ..persistence import save_model
    from ..training import PRESETS, train_model

    check_output_path(args.out)
    simulated = args.data == "simulated"
    if args.preset is None:  # rated folders have ratings only: the paper's model learns them
        args.preset = "default" if simulated else "paper"
    settings = dict(PRESETS[args.preset])
    settings["net_params"] = dict(settings["net_params"])
    for key in ("model", "features", "target", "source"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    if settings["model"] != "ffn":
        settings["features"] = None
    if settings["model"] != PRESETS[args.preset]["model"]:
        settings["net_params"] = {}  # a preset's network settings are for its own model
    for key in ("n_tracks", "duration", "n_windows", "variants", "window"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    if args.epochs is not None:
        settings["net_params"]["max_epochs"] = args.epochs
    if args.device is not None:
        if settings["model"] not in ("ffn", "drn"):
            raise ValueError(f"--device applies to the ffn and drn networks, not to "
                             f"--model {settings['model']}.")
        settings["net_params"]["device"] = args.device
    if simulated and settings.get("source"):
        for item in settings["source"]:
            if not Path(item).exists():
                raise FileNotFoundError(
                    f"no such music folder or file: {item} (the default preset's music is "
                    "../shared/corpus and ../shared/music, from the project root; or pass "
                    "--source)")
    total = settings["n_tracks"] * settings.get("variants", 1)
    bar = progress_bar(total, "simulating panel", args.quiet or not simulated, unit="track")
    try:
        model = train_model(args.data, random_state=args.seed,
                            progress=None if bar is None else bar.update, **settings)
    finally:
        if bar is not None:
            bar.close()
    path = save_model(model, args.out)
    if not args.quiet:
        info = model.training_info_
        print(f"trained {info['model']}"
              + (f" on {info['features']} features" if info["features"] else "")
              + f": {info['n_windows']} windows of {info['n_tracks']} tracks ({info['source']}), "
              f"seed {args.seed} -> {path} ({Path(path).stat().st_size / 1e6:.2f} MB)")
    return 0
