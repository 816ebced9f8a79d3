"""Build the dashboards' daily roll-up (OrderEventDay) for the finished days not built yet.

Idempotent: the roll-up is derived data, like a cache. Each day is rebuilt in one transaction that
replaces that day's rows and moves the mark, so running the command twice changes nothing the
second time, and a run stopped half-way resumes where it stopped. The sweep runs it; after an
import or the demo generator (rows written with past times), run it with --rebuild.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date

from linli.reports import dashboard_rollup


class Command(BaseCommand):
    help = "Roll up orders and their events by day for the dashboards (finished days only)."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="rebuild every day from the first order")
        parser.add_argument("--since", help="rebuild from this day (YYYY-MM-DD)")

    def handle(self, *args, rebuild=False, since=None, **options):
        start: dt.date | None = None
        if since:
            start = parse_date(since)
            if start is None:
                raise CommandError("--since: a date YYYY-MM-DD")
        elif rebuild:
            start = dashboard_rollup.first_day()

        def progress(day, done):  # a line a week built (with -v 2), for a long first build
            self.stdout.write(f"  through {day.isoformat()}: {done} days")

        verbose = options.get("verbosity", 1) > 1
        days, rows = dashboard_rollup.rollup(since=start, progress=progress if verbose else None)
        self.stdout.write(f"rollup_order_events: {days} days, {rows} rows")
