"""A digest of a demo town, to check that the same seed and scale build the same town."""

import hashlib

from linli.accounts.models import RoleAssignment
from linli.orgs.models import Building, Community, Estate, Grid, Household, PartyOrg, Town
from linli.people.models import Member, MemberSkill, PartyPosition, Registration, Resident


def town_digest(town: Town) -> str:
    """A digest of the town's people and organisations, independent of row ids and event times.

    Two builds with the same seed and scale give the same digest.
    """
    h = hashlib.sha256()

    def feed(rows):
        for row in sorted(map(repr, rows)):
            h.update(row.encode())

    feed(Community.objects.filter(town=town).values_list("code", "name", "kind"))
    feed(Grid.objects.filter(community__town=town).values_list("code", "name"))
    feed(Estate.objects.filter(community__town=town).values_list("name", "company__name"))
    feed(Building.objects.filter(grid__community__town=town).values_list("grid__code", "name", "address"))
    feed(Household.objects.filter(building__grid__community__town=town).values_list("address"))
    feed(
        (
            r.household.address,
            r.name,
            r.gender,
            r.birth_date,
            r.id_hash,
            r.phone_hash,
            tuple(r.tags),
            r.is_party_member,
            r.relation,
        )
        for r in Resident.objects.filter(household__building__grid__community__town=town).select_related("household")
    )
    feed(
        Member.objects.filter(registrations__community__town=town)
        .distinct()
        .values_list(
            "member_no", "name", "id_hash", "phone_hash", "unit__name", "home_grid__code", "availability", "load_cap"
        )
    )
    feed(
        MemberSkill.objects.filter(member__registrations__community__town=town)
        .distinct()
        .values_list("member__member_no", "skill__code", "level")
    )
    feed(
        Registration.objects.filter(community__town=town).values_list(
            "member__member_no", "unit__code", "community__code", "status"
        )
    )
    feed(PartyOrg.objects.filter(community__town=town).values_list("kind", "name"))
    feed(
        PartyPosition.objects.filter(party_org__community__town=town).values_list(
            "party_org__name", "title", "resident__id_hash", "member__member_no"
        )
    )
    feed(RoleAssignment.objects.filter(user__username__startswith="grid-").values_list("user__username", "grid__code"))
    return h.hexdigest()
