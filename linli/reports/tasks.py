"""Background work for feedback: generating a period's unit reports (idempotent, safe to retry).

A retried or duplicated task changes nothing: reports are unique per unit and period, and each
report's notification and audit row are written with it.
"""

from django_tasks import task


def units_of(town_ids):
    """Units of the given towns (None in the list: units without a town); every unit when town_ids is None."""
    from django.db.models import Q

    from linli.orgs.models import Unit

    if town_ids is None:
        return Unit.objects.all()
    q = Q(town_id__in=[t for t in town_ids if t is not None])
    if None in town_ids:
        q |= Q(town__isnull=True)
    return Unit.objects.filter(q)


@task()
def generate_unit_reports(period_code: str, town_ids: list | None = None, actor_id: int | None = None) -> int:
    """Generate the period's report for every unit with members (of `town_ids`, if given) that lacks
    one; returns how many were made."""
    from linli.accounts.models import User
    from linli.reports import actions
    from linli.reports.feedback import Period

    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    return actions.generate_unit_reports(
        period=Period.parse(period_code), actor=actor, units=units_of(town_ids)
    ).created
