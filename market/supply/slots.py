"""An event's time slots: codes ("d1s01": day 1, slot 1) and their times in Beijing."""
from __future__ import annotations

from datetime import datetime, timedelta

from market.models import Event


def slot_codes(event: Event) -> list[str]:
    return [f"d{d + 1}s{n + 1:02d}" for d in range(event.days) for n in range(event.slot_count)]


def slot_labels(event: Event) -> dict[str, str]:
    """Slot code -> "2026-12-05 09:20" (Beijing time, as the day is run)."""
    start = datetime.strptime(event.first_slot, "%H:%M")
    out = {}
    for d in range(event.days):
        day = event.starts_on + timedelta(days=d)
        for n in range(event.slot_count):
            at = start + timedelta(minutes=n * event.slot_minutes)
            out[f"d{d + 1}s{n + 1:02d}"] = f"{day.isoformat()} {at.strftime('%H:%M')}"
    return out
