"""The ``clothret`` command line.

    clothret fit experiment=smoke loss=quadruplet trainer.max_epochs=2
    clothret fit --config runs/smoke/<stamp>/config.yaml
    clothret test experiment=smoke ckpt_path=runs/smoke/<stamp>/checkpoints/last.ckpt
    clothret embed experiment=smoke ckpt_path=... --split gallery --out emb/
    clothret index experiment=smoke ckpt_path=... --out index/
    clothret search index/ photo.jpg --k 5 [--json]
    clothret list [group]
    clothret sample-data DIR

User errors (unknown name or key, missing file) exit with status 2 and a one-line message.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from clothret import __version__

CONFIG_COMMANDS = ("fit", "validate", "test", "embed", "index")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clothret", description="Clothing image retrieval experiments."
    )
    parser.add_argument("--version", action="version", version=f"clothret {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    helps = {
        "fit": "train an experiment",
        "validate": "evaluate a checkpoint on the validation split",
        "test": "evaluate a checkpoint on the test split",
        "embed": "write embeddings (and codes) of a split to a directory",
        "index": "build a search index over the gallery from a checkpoint",
    }
    for name, text in helps.items():
        cmd = sub.add_parser(name, help=text, description=text)
        cmd.add_argument("overrides", nargs="*", help="experiment=NAME, group=name, a.b.c=value")
        cmd.add_argument("--config", help="a saved config.yaml to run instead of an experiment")
        cmd.add_argument(
            "--print-config", action="store_true", help="print the resolved config and exit"
        )
        if name in ("embed", "index"):
            cmd.add_argument("--out", help="output directory (default: inside the run directory)")
        if name == "embed":
            cmd.add_argument(
                "--split",
                default="gallery",
                choices=["train", "query", "gallery", "validate", "test"],
            )
    search = sub.add_parser("search", help="query an index with image files")
    search.add_argument("index_dir")
    search.add_argument("images", nargs="+")
    search.add_argument("--k", type=int, default=5)
    search.add_argument("--json", action="store_true", help="print results as JSON")
    listing = sub.add_parser("list", help="list registered components and their parameters")
    listing.add_argument("group", nargs="?")
    listing.add_argument("--pattern", default="*", help="fnmatch pattern on names")
    sample = sub.add_parser("sample-data", help="write the generated sample dataset")
    sample.add_argument("dir")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--num-items", type=int, default=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``clothret`` console script; returns the exit status."""
    # Lightning's own use of a deprecated torch API, printed on every run; not actionable.
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
    parser = _parser()
    # Overrides may come after options (`index --out DIR loss=x`), which argparse alone rejects.
    args, extra = parser.parse_known_args(argv)
    stray = [e for e in extra if e.startswith("-") or "=" not in e]
    if stray or (extra and args.command not in CONFIG_COMMANDS):
        parser.error(f"unrecognized arguments: {' '.join(stray or extra)}")
    if args.command in CONFIG_COMMANDS:
        args.overrides = [*args.overrides, *extra]
    from clothret.errors import ClothretError

    try:
        return _dispatch(args)
    except ClothretError as err:
        print(f"clothret {args.command}: error: {err}", file=sys.stderr)
        return 2
    except FileNotFoundError as err:
        print(f"clothret {args.command}: error: {err}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in CONFIG_COMMANDS:
        from clothret import config as config_lib

        if args.config:
            cfg = config_lib.load_saved(args.config, args.overrides)
        else:
            cfg = config_lib.compose(None, args.overrides)
        if args.print_config:
            print(config_lib.to_yaml(cfg), end="")
            return 0
        if args.command in ("fit", "validate", "test"):
            from clothret.commands.train import run

            print(run(args.command, cfg))
            return 0
        from clothret.commands import export

        if args.command == "embed":
            print(export.embed(cfg, split=args.split, out=args.out))
        else:
            print(export.build_index(cfg, out=args.out))
        return 0
    if args.command == "search":
        from clothret.commands.search import search

        search(args.index_dir, args.images, k=args.k, as_json=args.json)
        return 0
    if args.command == "list":
        from clothret.commands.listing import list_components

        print(list_components(args.group, args.pattern))
        return 0
    if args.command == "sample-data":
        from clothret.sample_data import generate_sample_data

        kwargs = {"seed": args.seed}
        if args.num_items is not None:
            kwargs["num_items"] = args.num_items
        print(generate_sample_data(args.dir, **kwargs))
        return 0
    raise AssertionError(args.command)  # argparse restricts the choices


if __name__ == "__main__":
    sys.exit(main())
