"""`make run`: start localstripe on loopback (unless something already listens there),
then the development server; stopping the server stops localstripe too."""
from __future__ import annotations

import os

from market.localstripe_proc import port_open, start_localstripe, stop


def register_dev_webhook(api_base: str, app_port: int, secret: str) -> None:
    """Ask localstripe to post signed events to this app, as Stripe's dashboard setting would."""
    import requests

    if not api_base.startswith(("http://127.0.0.1:", "http://localhost:")):
        return  # a real payments API: its webhooks are configured in its dashboard
    try:
        requests.post(f"{api_base}/_config/webhooks/sisters-market", timeout=5,
                      data={"url": f"http://127.0.0.1:{app_port}/payments/webhook", "secret": secret})
    except requests.RequestException as exc:  # not localstripe, or not up: pages reconcile anyway
        print(f"webhook registration skipped: {exc}")


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
        register_dev_webhook(app.config["STRIPE_API_BASE"], port, app.config["STRIPE_WEBHOOK_SECRET"])
        app.run(host="127.0.0.1", port=port, debug=False, use_reloader=False)
    finally:
        stop(proc)


if __name__ == "__main__":
    main()
