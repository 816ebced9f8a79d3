"""Remind members of their shifts the day before (in-app, and by SMS with their consent).

Idempotent: each sign-up is reminded once (`reminded_at`, set by compare-and-set) and the
notification's dedupe key names the member and the shift, so running it twice — or two runs at
once — sends one reminder per member and shift. Run it from the periodic sweep.
Quiet hours: between --quiet-from and --quiet-until (local time) nothing is sent; the next run
after the quiet hours catches up, as shifts are reminded up to 24 hours ahead.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from linli.activities import actions


class Command(BaseCommand):
    help = "Remind members of shifts starting within the next 24 hours (once per member and shift)."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-from", type=int, default=21, help="local hour quiet hours start (default 21)")
        parser.add_argument("--quiet-until", type=int, default=8, help="local hour quiet hours end (default 8)")

    def handle(self, *args, quiet_from, quiet_until, **options):
        if not (0 <= quiet_from <= 24 and 0 <= quiet_until <= 24):
            raise CommandError("quiet hours must be between 0 and 24")
        hour = timezone.localtime().hour
        quiet = (
            hour >= quiet_from or hour < quiet_until if quiet_from > quiet_until else quiet_from <= hour < quiet_until
        )
        if quiet:
            self.stdout.write("remind_shifts: quiet hours, 0 reminders sent")
            return
        sent = actions.send_shift_reminders()
        self.stdout.write(f"remind_shifts: {sent} reminders sent")
