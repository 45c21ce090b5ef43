"""`make run`: start localstripe on loopback (unless something already listens there),
then the development server; stopping the server stops localstripe too."""
from __future__ import annotations

import os

from market.localstripe_proc import port_open, start_localstripe, stop


def main() -> None:
    port = int(os.environ.get("PORT", 5000))
    stripe_port = int(os.environ.get("STRIPE_PORT", 8420))
    os.environ.setdefault("STRIPE_API_BASE", f"http://127.0.0.1:{stripe_port}")
    proc = None
    if not port_open(stripe_port):
        proc = start_localstripe(stripe_port, quiet=False)
    try:
        from market import create_app

        app = create_app()
        for hook in app.extensions.get("on_dev_start", []):
            hook(app, port)
        app.run(host="127.0.0.1", port=port, debug=False, use_reloader=False)
    finally:
        stop(proc)


if __name__ == "__main__":
    main()
