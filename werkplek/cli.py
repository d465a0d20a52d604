"""The `werkplek` command: run the demo or one service, seed data, manage tokens."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
import urllib.request

from werkplek import __version__

log = logging.getLogger("werkplek")


def _setup_logging(verbose: bool) -> None:
    # One set-up for every command (WERKPLEK_LOG_FORMAT=json; chatty libraries at WARNING).
    from common.logs import setup_logging

    setup_logging(verbose=verbose)


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the whole system on embedded defaults."""
    from werkplek.demo import DemoHandles, DemoOptions, describe, parse_start, run_demo
    from werkplek.settings import DemoSettings

    settings = DemoSettings()
    options = DemoOptions(
        speed=args.speed if args.speed is not None else settings.demo_speed,
        start=parse_start(args.start),
        fleet=not args.no_fleet,
        seed=settings.demo_seed if args.seed is None else args.seed,
    )

    def ready(handles: DemoHandles) -> None:
        print(describe(handles, settings.data_dir), flush=True)  # noqa: T201 - the user reads this

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_demo(settings, options, stop, on_ready=ready)

    asyncio.run(main())
    print("Stopped. / Gestopt.")  # noqa: T201
    return 0


def cmd_gateway(args: argparse.Namespace) -> int:
    """Run the gateway until SIGINT/SIGTERM, as ``python -m gateway`` does (same health file)."""
    from gateway.__main__ import main as run_gateway

    run_gateway(verbose=args.verbose)
    return 0


def cmd_backend(_: argparse.Namespace) -> int:
    """Serve the backend API, stream and signage pages."""
    import uvicorn

    from backend.config import get_settings
    from backend.main import create_app, freeze_heap

    settings = get_settings()
    app = create_app(settings)
    freeze_heap()  # a backend process only: no full collection walks the app's objects
    # log_config=None: uvicorn keeps the root set-up (WERKPLEK_LOG_FORMAT) instead of its own.
    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None)
    return 0


def cmd_seed(_: argparse.Namespace) -> int:
    """Load the sample municipality into the configured database."""
    from backend import seed
    from backend.config import get_settings
    from backend.database import create_all, make_engine, make_session_factory

    engine = make_engine(get_settings().database_url)
    create_all(engine)
    with make_session_factory(engine)() as session:
        summary = seed.seed_demo(session)
        session.commit()
    print(summary)  # noqa: T201
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    """Create an API token; it is shown once and stored only as a hash."""
    from backend.auth import service as auth_service
    from backend.config import get_settings
    from backend.database import create_all, make_engine, make_session_factory

    engine = make_engine(get_settings().database_url)
    create_all(engine)
    with make_session_factory(engine)() as session:
        token = auth_service.create_token(session, role=args.role, name=args.name)
        session.commit()
    print(token)  # noqa: T201
    return 0


def cmd_healthcheck(args: argparse.Namespace) -> int:
    """Exit 0 when the named service is healthy, else 1 with the reasons on stderr.

    Unhealthy: no answer (or no fresh health file), or no broker connection for
    longer than ``WERKPLEK_HEALTH_MAX_DISCONNECTED_S``. Missing retention or an
    unreachable history store are printed as warnings: a restart cannot fix them.
    """
    from gateway.status import judge, warnings

    report: dict[str, object] = {}
    if args.service == "backend":
        from backend.config import get_settings

        settings = get_settings()
        limit = settings.health_max_disconnected_s
        host = "127.0.0.1" if settings.http_host in ("0.0.0.0", "::") else settings.http_host
        try:
            url = f"http://{host}:{settings.http_port}/healthz"
            with urllib.request.urlopen(url, timeout=3) as response:
                report = {**json.loads(response.read()), "at": time.time()}
        except (OSError, ValueError) as exc:
            print(f"backend unhealthy: /healthz did not answer: {exc}", file=sys.stderr)  # noqa: T201
            return 1
    else:
        from gateway.__main__ import health_path
        from gateway.settings import GatewaySettings

        gateway_settings = GatewaySettings()
        limit = gateway_settings.health_max_disconnected_s
        with contextlib.suppress(OSError, ValueError):
            report = json.loads(health_path(gateway_settings).read_text())
        if not report:
            print("gateway unhealthy: no health file (is it running?)", file=sys.stderr)  # noqa: T201
            return 1
    for warning in warnings(report):
        print(f"{args.service} warning: {warning}", file=sys.stderr)  # noqa: T201
    reasons = judge(report, time.time(), max_stale_s=30, max_down_s=limit)
    for reason in reasons:
        print(f"{args.service} unhealthy: {reason}", file=sys.stderr)  # noqa: T201
    return 1 if reasons else 0


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="werkplek", description=__doc__)
    parser.add_argument("--version", action="version", version=f"werkplek {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the whole system on embedded defaults")
    demo.add_argument(
        "--speed", type=float, help="simulated clock speed (60 = a minute per second)"
    )
    demo.add_argument(
        "--start",
        help="simulated start: HH:MM on the next working day, or YYYY-MM-DDTHH:MM "
        "(default: now, or 09:30)",
    )
    demo.add_argument("--seed", type=int, help="seed of the simulated working day")
    demo.add_argument("--no-fleet", action="store_true", help="do not simulate sensors")
    demo.set_defaults(func=cmd_demo)

    sub.add_parser("gateway", help="run the gateway").set_defaults(func=cmd_gateway)
    sub.add_parser("backend", help="run the backend").set_defaults(func=cmd_backend)
    sub.add_parser("seed", help="load the sample municipality").set_defaults(func=cmd_seed)

    token = sub.add_parser("token", help="create an API token")
    token.add_argument("action", choices=["create"])
    token.add_argument(
        "--role", required=True, choices=["admin", "facility", "signage", "integration"]
    )
    token.add_argument("--name", required=True, help="who or what uses it, e.g. 'lobby screen'")
    token.set_defaults(func=cmd_token)

    from werkplek import firmware_build, pki

    firmware_build.add_cli(sub)
    from werkplek import influx_init

    influx_init.add_cli(sub)
    pki.add_cli(sub)
    from backend.privacy import cli as privacy_cli

    privacy_cli.add_cli(sub)

    from werkplek import backup as backup_cli

    backup_cli.add_cli(sub)
    from werkplek import schema as schema_cli

    schema_cli.add_cli(sub)

    from werkplek import broker_acl

    broker_acl.add_cli(sub)
    from werkplek import site_bridge

    site_bridge.add_cli(sub)

    health = sub.add_parser("healthcheck", help="exit 0 when a service is healthy")
    health.add_argument("service", choices=["gateway", "backend"])
    health.set_defaults(func=cmd_healthcheck)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `werkplek` command."""
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
