"""Command line of the demo source systems (see demo_sources/serve.py and seed.py)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from demo_sources.rest import TokenMissing
from demo_sources.seed import DEFAULT_PEOPLE, DEFAULT_SEED


def main(argv: list[str] | None = None) -> int:
    """Run ``serve`` or ``seed``; the exit status is 2 when a token is missing."""
    parser = argparse.ArgumentParser(prog="python -m demo_sources",
                                     description="Demo source systems for the customer hub.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("serve", "seed if needed, then run the CRM and support servers"),
                            ("seed", "seed the data directory and exit")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--data-dir", type=Path, required=True)
        command.add_argument("--people", type=int, default=DEFAULT_PEOPLE)
        command.add_argument("--seed", type=int, default=DEFAULT_SEED)
        if name == "serve":
            command.add_argument("--host", default="127.0.0.1")
            command.add_argument("--crm-port", type=int, default=8101)
            command.add_argument("--support-port", type=int, default=8102)
    args = parser.parse_args(argv)
    if args.people < 1:
        parser.error("--people must be at least 1")

    from demo_sources import serve  # after parsing: --help needs no data generator

    if args.command == "seed":
        description = serve.prepare(args.data_dir, people=args.people, seed=args.seed,
                                    environ=os.environ)
        print(f"demo sources seeded in {args.data_dir}: {description['records']}")
        return 0
    try:
        serve.serve(args.data_dir, people=args.people, seed=args.seed, host=args.host,
                    crm_port=args.crm_port, support_port=args.support_port, environ=os.environ)
    except TokenMissing as exc:
        print(f"demo sources: refusing to start without a token: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"demo sources: cannot listen ({exc.strerror})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
