"""localstripe on an explicit address: `python -m market.localstripe_server --port 8420`.

localstripe's own command listens on every interface (`::`); development and tests want it on
loopback only, so this runs its aiohttp application with a host of our choosing. The store
always starts empty (as `--from-scratch`)."""
from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)

    import logging

    from aiohttp import web
    from localstripe.server import app

    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
