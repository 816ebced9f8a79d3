"""`manage.py unit_reports [--period 2026Q3] [--preset quarterly] [--enqueue]`: feedback reports to units.

Without --period, each town's last completed period of its own preset (FeedbackSettings; the
default is quarterly), or of --preset for every town. Generates the report of every unit with
members that lacks one, sends it to the unit's admins and audits the sending. Idempotent: a
second run (or the periodic sweep every minute) finds every report there and changes nothing.
"""

from collections import defaultdict

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from linli.orgs.models import Town
from linli.reports import actions, tasks
from linli.reports.feedback import Period
from linli.reports.models import DEFAULT_PRESET, FeedbackSettings, Preset


class Command(BaseCommand):
    help = "Generate and send feedback reports to units for the last completed period (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--period", help="a period code: 2026Q3, 2026-07, 2026H2 or 2026 (default: the last completed)"
        )
        parser.add_argument("--preset", choices=Preset.values, help="monthly, quarterly, half_yearly or yearly")
        parser.add_argument("--enqueue", action="store_true", help="hand the work to the task worker instead")

    def handle(self, *args, period, preset, enqueue, verbosity, **options):
        today = timezone.localdate()
        if period:
            try:
                chosen = Period.parse(period)
            except ValueError:
                raise CommandError(f"周期无效：{period}（例如 2026Q3、2026-07、2026H2、2026）") from None
            if preset and preset != chosen.preset:
                raise CommandError(f"--period {period} 不是 {preset} 周期")
            if chosen.end > today:
                raise CommandError(f"{chosen.label}尚未结束，只能生成已结束周期的报告")
            plan = {chosen: None}
        elif preset:
            plan = {Period.last_completed(preset, today): None}
        else:
            plan = _plan(today)
        for chosen, town_ids in plan.items():
            if enqueue:
                tasks.generate_unit_reports.enqueue(chosen.code, town_ids, None)
                self.stdout.write(f"unit_reports: {chosen.code}: queued")
                continue
            units = tasks.units_of(town_ids)
            due = units.filter(members__isnull=False).exclude(feedback_reports__period=chosen.code).distinct().count()
            # tqdm's disable=None: a bar on a terminal, nothing in cron or the sweep's log.
            with tqdm(total=due, unit="单位", desc=chosen.code, disable=None if verbosity >= 1 else True) as bar:
                result = actions.generate_unit_reports(period=chosen, units=units, progress=bar.update)
            self.stdout.write(
                f"unit_reports: {chosen.code}: {result.created} generated, {result.existing} already there"
            )


def _plan(today) -> dict:
    """{period: [town ids]}: each town's last completed period of its preset; units without a town
    (None in the list) follow the default preset."""
    presets = dict(FeedbackSettings.objects.values_list("town_id", "preset"))
    plan = defaultdict(list)
    for town_id in [*Town.objects.order_by("pk").values_list("pk", flat=True), None]:
        plan[Period.last_completed(presets.get(town_id, DEFAULT_PRESET), today)].append(town_id)
    return dict(plan)
