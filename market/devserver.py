"""`make run`: start localstripe on loopback (unless something already listens there),
then the development server; stopping the server stops localstripe too.

PORT and STRIPE_PORT choose the two ports; the app is created after STRIPE_API_BASE is set
from STRIPE_PORT (configuration is read in create_app), so the app calls the localstripe that
was started. A STRIPE_API_BASE given explicitly wins."""
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


def demo_logins() -> list[tuple[str, str]]:
    """(roles, email) of the demo accounts the seed made, for the start-up banner."""
    from sqlalchemy import select

    from market.extensions import db
    from market.models import User

    users = db.session.scalars(select(User).where(User.email.like("%@demo.sisters-market.cn")).order_by(User.id))
    seen, logins = set(), []
    for user in users:
        roles = ",".join(sorted(user.role_names))
        if roles not in seen:  # one account per kind is enough to show
            seen.add(roles)
            logins.append((roles, user.email))
    return logins


def banner(app, port: int) -> str:
    from market.cli import DEMO_PASSWORD

    with app.app_context():
        logins = demo_logins()
    lines = [
        "",
        "Sisters Market (姐妹集市) is running:",
        f"  shop          http://127.0.0.1:{port}/",
        f"  help desk     http://127.0.0.1:{port}/mentoring/",
        f"  mails sent    http://127.0.0.1:{port}/dev/notices   (development only; also printed below)",
        f"  payments API  {app.config['STRIPE_API_BASE']}",
    ]
    if logins:
        lines.append(f"demo logins (password: {DEMO_PASSWORD}):")
        lines += [f"  {roles:<22} {email}" for roles, email in logins]
    lines.append("Stop with Ctrl+C.")
    return "\n".join(lines) + "\n"


def main() -> None:
    port = int(os.environ.get("PORT") or 5000)
    stripe_port = int(os.environ.get("STRIPE_PORT") or 8420)
    os.environ.setdefault("STRIPE_API_BASE", f"http://127.0.0.1:{stripe_port}")
    proc = None
    if not port_open(stripe_port):
        proc = start_localstripe(stripe_port, quiet=True)
    try:
        from market import create_app

        app = create_app()
        register_dev_webhook(app.config["STRIPE_API_BASE"], port, app.config["STRIPE_WEBHOOK_SECRET"])
        print(banner(app, port), flush=True)
        app.run(host="127.0.0.1", port=port, debug=False, use_reloader=False)
    finally:
        stop(proc)


if __name__ == "__main__":
    main()
