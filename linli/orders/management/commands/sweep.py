"""Periodic, idempotent sweep: flag overdue orders for staff; auto-close unrated resolved orders.

Run it every few minutes (cron or a systemd timer). Running it twice changes nothing the
second time: overdue flags are unique per order and deadline, and closing is compare-and-set.
"""

import datetime as dt

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from linli.lib.errors import Conflict
from linli.lib.tasks import requeue_stale_tasks
from linli.orders import actions
from linli.orders.models import Order, Status


class Command(BaseCommand):
    help = "Flag overdue orders and close resolved orders left unrated past their category's limit."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=1000, help="rows per query (default 1000)")
        parser.add_argument(
            "--stale-task-minutes",
            type=float,
            default=5.0,
            help="requeue background tasks running longer than this (a killed worker's; default 5)",
        )

    def handle(self, *args, batch, stale_task_minutes, **options):
        now = timezone.now()
        requeued = requeue_stale_tasks(dt.timedelta(minutes=stale_task_minutes))
        flagged = 0
        for order in Order.objects.overdue(now).select_related("community").iterator(chunk_size=batch):
            flagged += actions.flag_overdue_order(order, now=now)
        closed = 0
        # Default limit for categories without a rule: 7 days (CategoryRule.auto_close_days).
        due = Order.objects.filter(status=Status.RESOLVED, resolved_at__isnull=False).select_related("category__rule")
        for order in due.iterator(chunk_size=batch):
            rule = getattr(order.category, "rule", None) if order.category_id else None
            days = rule.auto_close_days if rule else 7
            if order.resolved_at + dt.timedelta(days=days) > now:
                continue
            try:
                actions.close_unrated_order(order)
            except Conflict:
                continue  # rated or reopened meanwhile
            closed += 1
        # Activities (a sibling app: its commands are called by name, not imported).
        call_command("remind_shifts", stdout=self.stdout)
        call_command("mark_no_shows", stdout=self.stdout)
        # Feedback reports to units for the period just ended (a no-op once they exist).
        call_command("unit_reports", stdout=self.stdout)
        call_command("rollup_order_events", stdout=self.stdout)  # the dashboards' daily roll-up
        self.stdout.write(f"sweep: {flagged} overdue flagged, {closed} unrated closed, {requeued} tasks requeued")
        return None
