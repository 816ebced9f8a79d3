"""Mark members who signed up for a shift that has ended and never signed in as no-shows.

Each gets the town's no-show deduction (credits rule "no_show"). Idempotent: compare-and-set per
sign-up, and the deduction is recorded once per sign-up, so a second run changes nothing. Run
it from the periodic sweep.
"""

from django.core.management.base import BaseCommand

from linli.activities import actions


class Command(BaseCommand):
    help = "Mark signed-up members of ended shifts who never signed in as no-shows (with the deduction)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=500, help="rows per query (default 500)")

    def handle(self, *args, batch, **options):
        marked = actions.mark_no_shows(batch=batch)
        self.stdout.write(f"mark_no_shows: {marked} no-shows marked")
