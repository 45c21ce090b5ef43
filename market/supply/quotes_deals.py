"""Quotes and deals. Accepting a quote moves the need with a conditional UPDATE (WHERE status =
'open'), so of two accepts at the same moment exactly one wins; the loser gets a message,
never a second deal."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from market import audit, clock
from market.extensions import db
from market.models import Quote, SupplyPost, User
from market.supply.common import NotFound, SupplyError, acting_org, clean, count, get, is_member, notify_user


def send_quote(user: User, post_id: int, org_id: int, *, price_fen, quantity, lead_days, note="") -> Quote:
    need = get(SupplyPost, post_id)
    org = acting_org(user, org_id)
    if need.kind != "need" or need.status != "open" or need.open_until < clock.today():
        raise SupplyError(_l("This need no longer takes quotes."))
    if org.id == need.organisation_id:
        raise SupplyError(_l("You cannot quote on your own need."), field="organisation")
    missing = set(need.certification_codes) - set(org.certification_codes)
    if missing:
        raise SupplyError(_l("This need requires a certification your organisation does not hold."),
                          field="organisation")
    if not isinstance(price_fen, int) or not 0 < price_fen <= 10**12:
        raise SupplyError(_l("Enter the price."), field="price")
    quote = Quote(post_id=need.id, organisation_id=org.id, price_fen=price_fen,
                  quantity=count(quantity, "quantity", allow_none=False, minimum=1),
                  lead_days=count(lead_days, "lead_days", allow_none=False),
                  note=clean(note, 2000), status="sent", created_by_id=user.id)
    latest = db.session.scalar(select(Quote).where(Quote.post_id == need.id, Quote.organisation_id == org.id)
                               .order_by(Quote.id.desc()).limit(1))
    if latest is not None and latest.status == "sent" and all(
            getattr(latest, f) == getattr(quote, f) for f in ("price_fen", "quantity", "lead_days", "note")):
        return latest  # the same quote sent twice (double click, back button): the need's owner hears once
    db.session.add(quote)
    db.session.flush()
    audit.record(user, "supply.quote_send", quote)
    notify_user(need.organisation.contact, "supply_quote", {"title": need.title, "name": org.name,
                                                        "url": f"/supply/posts/{need.id}"})
    db.session.commit()
    return quote


def accept_quote(user: User, quote_id: int) -> Quote:
    """The need's owner accepts one quote. The need moves open → awarded with a conditional
    UPDATE: of two accepts at once (two quotes, or two members), one wins."""
    quote = get(Quote, quote_id)
    need = quote.post
    if not is_member(user, need.organisation):
        raise NotFound(quote_id)
    if quote.status != "sent":
        raise SupplyError(_l("This quote can no longer be accepted."))
    now = clock.now()
    won = db.session.execute(update(SupplyPost).where(SupplyPost.id == need.id, SupplyPost.status == "open")
                             .values(status="awarded", accepted_quote_id=quote.id)).rowcount
    if won != 1:
        db.session.rollback()
        raise SupplyError(_l("Another quote was already accepted for this need."))
    db.session.execute(update(Quote).where(Quote.id == quote.id).values(status="accepted", accepted_at=now,
                                                                         deal_status="pending"))
    db.session.execute(update(Quote).where(Quote.post_id == need.id, Quote.id != quote.id, Quote.status == "sent")
                       .values(status="declined"))
    audit.record(user, "supply.quote_accept", quote)
    notify_user(quote.organisation.contact, "supply_quote_accepted",
            {"title": need.title, "name": need.organisation.name, "url": f"/supply/posts/{need.id}"})
    db.session.commit()
    db.session.refresh(quote)
    return quote


def record_deal(user: User, quote_id: int, signed: bool, value_fen: int | None = None, note: str = "") -> Quote:
    """Either side marks the accepted quote's deal signed (with its value) or not signed (with
    why). The deal is signed once both sides said so; "not signed" from either side ends it."""
    quote = get(Quote, quote_id)
    need = quote.post
    buyer, supplier = is_member(user, need.organisation), is_member(user, quote.organisation)
    if not (buyer or supplier):
        raise NotFound(quote_id)
    if quote.status != "accepted" or quote.deal_status not in ("pending",):
        raise SupplyError(_l("This deal is already settled."))
    now = clock.now()
    if signed:
        if not isinstance(value_fen, int) or not 0 < value_fen <= 10**12:
            raise SupplyError(_l("Enter the deal's value."), field="value")
        quote.deal_value_fen = value_fen
        if buyer:
            quote.buyer_signed_at = now
        if supplier:
            quote.supplier_signed_at = now
        if quote.buyer_signed_at and quote.supplier_signed_at:
            quote.deal_status = "signed"
    else:
        reason = clean(note, 2000)
        if not reason:
            raise SupplyError(_l("Say why the deal was not signed."), field="note")
        quote.deal_status = "not_signed"
        quote.deal_note = reason
    audit.record(user, "supply.deal_signed" if signed else "supply.deal_not_signed", quote)
    other = quote.organisation.contact if buyer else need.organisation.contact
    notify_user(other, "supply_deal", {"title": need.title, "url": f"/supply/posts/{need.id}"})
    db.session.commit()
    return quote

