"""The `edgedesk` command line: one subcommand per job (`sim` today; run, markets, book, doctor later).

`edgedesk sim` runs the local exchange simulator on loopback. Unknown commands print the help and
exit with status 2.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from collections.abc import Sequence

from console.domain.units import UnitError, parse_money


def _loopback_host(value: str) -> str:
    """Accept only loopback addresses: the simulator has no TLS and hands out funded keys."""
    if value == "localhost":
        return value
    try:
        if ipaddress.ip_address(value).is_loopback:
            return value
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(
        f"{value!r} is not a loopback address; the simulator only binds to 127.0.0.1, ::1 or localhost"
    )


def _dollars(value: str) -> int:
    try:
        micros = parse_money(value)
    except UnitError as exc:
        raise argparse.ArgumentTypeError(f"balance {value!r}: {exc}") from None
    if micros < 0:
        raise argparse.ArgumentTypeError(f"balance {value!r}: must be >= 0")
    return micros


def _positive_float(value: str) -> float:
    try:
        speed = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"speed {value!r}: not a number") from None
    if not speed > 0:
        raise argparse.ArgumentTypeError(f"speed {value!r}: must be > 0")
    return speed


def _non_negative_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: not an integer") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"{value!r}: must be >= 0")
    return n


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgedesk", description="A terminal trading desk for binary event contracts.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    sim = commands.add_parser("sim", help="run the local exchange simulator (Kalshi API on loopback)",
                              description="Run the local Kalshi-compatible exchange simulator on loopback.")
    sim.add_argument("--host", type=_loopback_host, default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    sim.add_argument("--port", type=_non_negative_int, default=0, help="TCP port; 0 picks a free one (default)")
    sim.add_argument("--key-dir", default=None,
                     help="where API keys and accounts.json go (default $EDGEDESK_HOME/sim-keys "
                          "or ~/.local/share/edgedesk/sim-keys)")
    sim.add_argument("--accounts", type=_non_negative_int, default=2,
                     help="test accounts acct1..acctN besides the desk's own (default 2)")
    sim.add_argument("--balance", type=_dollars, default=_dollars("10000"), metavar="DOLLARS",
                     help="starting cash per account in dollars (default 10000)")
    sim.add_argument("--seed", type=int, default=None, help="random seed for the simulated world")
    sim.add_argument("--speed", type=_positive_float, default=1.0, help="simulated seconds per real second (default 1)")
    sim.add_argument("--demo-markets", action=argparse.BooleanOptionalAction, default=True,
                     help="create a handful of demo markets at start-up (default on)")
    sim.set_defaults(func=_cmd_sim)
    parser.set_defaults(command_names=tuple(commands.choices))
    return parser


def _cmd_sim(args: argparse.Namespace) -> int:
    from console.sim.server import default_key_dir, run_sim

    key_dir = args.key_dir or default_key_dir()
    run_sim(args.host, args.port, key_dir, args.accounts, args.balance, args.seed, args.speed,
            demo_markets=args.demo_markets)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    known = parser.get_default("command_names")
    first = next((a for a in argv if not a.startswith("-")), None)
    if first is not None and first not in known:
        parser.print_help(sys.stderr)
        print(f"\nedgedesk: unknown command {first!r}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not getattr(args, "func", None):
        # `edgedesk` alone will start the desk against the simulator once the desk exists
        parser.print_help(sys.stderr)
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
