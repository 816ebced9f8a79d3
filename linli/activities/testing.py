"""Builders for activity tests: everything goes through the actions, like the product.

Times are relative to `timezone.now()`, so tests move the clock (time-machine) rather than
editing rows.
"""

import datetime as dt

from django.utils import timezone

from linli.activities import actions
from linli.activities.models import Kind


def make_activity(community, *, actor, publish=False, shifts=(), **kw):
    """An activity of `community` created by `actor` (its staff); `shifts` are
    (hours from now, length in hours, capacity) triples; published if asked."""
    now = timezone.now()
    activity = actions.create_activity(
        community=community,
        actor=actor,
        kind=kw.pop("kind", Kind.CLEANUP),
        title=kw.pop("title", "楼道清理"),
        place=kw.pop("place", "幸福小区3栋"),
        leader=kw.pop("leader", "王主任"),
        description=kw.pop("description", ""),
        required_skill=kw.pop("required_skill", None),
        unit_quota=kw.pop("unit_quota", False),
        signup_opens_at=kw.pop("signup_opens_at", now - dt.timedelta(hours=1)),
        signup_closes_at=kw.pop("signup_closes_at", now + dt.timedelta(days=30)),
        cancel_hours=kw.pop("cancel_hours", 24),
    )
    assert not kw, f"unknown arguments: {sorted(kw)}"
    for start_in, length, capacity in shifts:
        add_shift(activity, actor=actor, start_in=start_in, length=length, capacity=capacity)
    if publish:
        actions.publish_activity(activity, actor=actor)
    return activity


def add_shift(activity, *, actor, start_in: float = 48, length: float = 2, capacity: int = 5, note: str = ""):
    start = timezone.now().replace(microsecond=0) + dt.timedelta(hours=start_in)
    return actions.add_shift(
        activity,
        actor=actor,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=length),
        capacity=capacity,
        note=note,
    )
