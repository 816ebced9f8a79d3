"""Open311 partner keys from the command line: create (prints the key once), list, revoke.

    python manage.py partner_key create --name "市民热线" [--town 420203D] [--community C01] [--rate 60]
    python manage.py partner_key list [--all]
    python manage.py partner_key revoke o311_AbCd1234

Without --town, the key is for the only town the server hosts (with several, --town is needed;
with --community alone, the community's town). Creating and revoking are audited as
"manage.py".
"""

from django.core.management.base import BaseCommand, CommandError

from linli.lib.errors import DomainError
from linli.open311 import actions
from linli.open311.models import PartnerKey
from linli.orgs.models import Community, Town


class Command(BaseCommand):
    help = "Create, list or revoke Open311 partner API keys."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create", help="create a key and print it (shown once)")
        create.add_argument("--name", required=True, help="the partner's name, recorded on its orders")
        create.add_argument("--town", help="the town's code (default: the only town)")
        create.add_argument("--community", help="limit the key to this community (its code)")
        create.add_argument(
            "--rate", type=int, help="requests per minute (default OPEN311_KEY_RATE_PER_MINUTE; 0: none)"
        )
        listing = sub.add_parser("list", help="list keys (live ones; --all for revoked too)")
        listing.add_argument("--all", action="store_true", help="include revoked keys")
        revoke = sub.add_parser("revoke", help="revoke the key with this prefix")
        revoke.add_argument("prefix", help="the key's prefix as `list` shows it (or the whole key)")

    def handle(self, *args, verb, **options):
        return getattr(self, f"_{verb}")(**options)

    def _town(self, code, community):
        if code:
            town = Town.objects.filter(code=code).first()
            if town is None:
                raise CommandError(f"No town with code {code!r}.")
            return town
        if community is not None:
            return community.town
        towns = list(Town.objects.order_by("code")[:2])
        if len(towns) != 1:
            codes = ", ".join(Town.objects.order_by("code").values_list("code", flat=True)[:20])
            raise CommandError(
                f"This server hosts several towns ({codes}): name one with --town <code>."
                if towns
                else "There is no town yet: create one first."
            )
        return towns[0]

    def _create(self, *, name, town, community, rate, **options):
        place = None
        if community:
            place = Community.objects.select_related("town").filter(code=community).first()
            if place is None:
                raise CommandError(f"No community with code {community!r}.")
        target = self._town(town, place)
        try:
            key, raw = actions.create_partner_key(
                actor=None, name=name, town=target, community=place, rate_limit_per_minute=rate
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        scope = f"{target.code} {target.name}" + (f" / {place.code} {place.name}" if place else "")
        self.stderr.write(f"Created key {key.prefix}… for {key.name} ({scope}). It is shown once:")
        self.stdout.write(raw)

    def _list(self, *, all, **options):
        keys = PartnerKey.objects.select_related("town", "community").order_by("town__code", "created_at")
        if not all:
            keys = keys.live()
        for key in keys:
            scope = key.town.code + (f"/{key.community.code}" if key.community_id else "")
            state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "live"
            rate = f"{key.rate_limit_per_minute}/min" if key.rate_limit_per_minute else "unlimited"
            self.stdout.write(f"{key.prefix}\t{key.name}\t{scope}\t{rate}\t{key.created_at:%Y-%m-%d}\t{state}")

    def _revoke(self, *, prefix, **options):
        prefix = prefix.strip()[: actions.PREFIX_LENGTH]
        key = PartnerKey.objects.select_related("town", "community").filter(prefix=prefix).first()
        if key is None:
            raise CommandError(f"No key with prefix {prefix!r}.")
        try:
            actions.revoke_partner_key(key, actor=None)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Revoked {key.prefix}… ({key.name}).")
