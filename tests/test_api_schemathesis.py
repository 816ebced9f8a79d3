"""schemathesis over the whole OpenAPI document, in-process through the WSGI app, as three roles
(a resident, a member, community A's staff), ≥ 100 examples per operation and role.

Checks on every response: no server error (5xx), the body matches the documented schema for
its status, and the role never reads outside its scope — a 2xx never names an object of
community B (or another user's private one) by id or by one of the seeded private strings, an
operation on such an object never succeeds, and a dispatch run answered never concerns B's
community or grid or the whole town (A's staff administer none of them). Path ids are drawn half
the time from the seeded world, in and out of scope (and so are the ids in queries and bodies:
members, households, categories, dispatch scopes …), so that the fuzzing reaches real objects,
not only 404s and 400s.

Slow (56 operations × 3 roles × 100 cases: a quarter of an hour on two busy cores): marked
`fuzz`, deselected from `make test`; CI runs it once on SQLite with
`pytest -m fuzz tests/test_api_schemathesis.py`.
"""

import json
import time
from types import SimpleNamespace

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.wsgi import application
from linli import testing as t
from linli.accounts.models import Notification
from linli.activities import actions as activity_actions
from linli.activities.testing import make_activity
from linli.api.actions import create_api_token
from linli.credits import actions as credit_actions
from linli.dispatch import actions as dispatch_actions
from linli.dispatch.loading import DispatchScope
from linli.orders import actions as order_actions
from linli.people import actions as people_actions
from linli.people.models import Member

pytestmark = pytest.mark.fuzz

ROLES = ("resident", "member", "staff")
# Strings seeded only into community B's objects and other users' inboxes: never in a 2xx body.
PRIVATE = {
    "order_b": "和平村私密诉求",
    "activity_b": "和平村植树活动",
    "record_b": "和平村秘密服务",
    "inbox_b": "和平村内部通知",
    "inbox_other": "他人的私信通知",
}
# Where an id sits in a body, by the key of the object that holds it (`"assignee": {"id": …}`)
# or by the key itself (`"order_id": …`).
NESTED_KIND = {
    "order": "order",
    "assignee": "member",
    "member": "member",
    "activity": "activity",
    "shift": "shift",
    "shifts": "shift",
    "signup": "signup",
    "my_signup": "signup",
    "resident": "resident",
}
ID_KIND = {
    "order_id": "order",
    "merged_into_id": "order",
    "into_id": "order",
    "member_id": "member",
    "household_id": "household",
    "record_id": "record",
    "corrects_id": "record",
    "adjustment_id": "record",
    "activity_id": "activity",
    "shift_id": "shift",
    "signup_id": "signup",
    "registration_id": "registration",
    "notification_id": "notification",
    "resident_id": "resident",
    "run_id": "run",
}
# The kind of the objects an operation answers with, by the first segment of its path.
ROOT_KIND = {
    "orders": "order",
    "tasks": "order",
    "activities": "activity",
    "signups": "signup",
    "shifts": "signup",
    "registrations": "registration",
    "registrations/communities": None,
    "notifications": "notification",
    "service-records": "correction",
    "ledger/service-records": "record",
    "ledger/corrections": "correction",
    "dispatch/runs": "run",
}
# Ids in a query or a body that name objects, by their key: half the time drawn from the seed.
FIELD_KIND = {
    "member": "member",
    "community": "community",
    "member_id": "member",
    "community_id": "community",
    "household_id": "household",
    "category_id": "category",
    "unit_id": "unit",
    "department_id": "department",
    "into_id": "order",
    # A dispatch scope's id: a grid's, a community's or the town's (its kind is scope_kind).
    "scope_id": "scope_id",
}
# Path parameter → the kind of object it names.
PARAM_KIND = {
    "order_id": "order",
    "activity_id": "activity",
    "shift_id": "shift",
    "signup_id": "signup",
    "record_id": "record",
    "registration_id": "registration",
    "notification_id": "notification",
    "run_id": "run",
}


def _seed(world, p) -> SimpleNamespace:
    """Objects of every kind in communities A and B, and in three users' inboxes."""
    w = world
    category = t.make_category(w.town, name="水电维修")
    # Room for the seeded work below and more: claiming from the pool stays possible.
    Member.objects.filter(pk=p.member.pk).update(load_cap=6)  # arrange only
    p.member.refresh_from_db()
    # Orders: the resident's own, one pooled in A, one dispatched to the member, and B's.
    own = t.make_order(w.a, actor=p.resident_user, household=w.hh_a1, title="厨房漏水")
    dispatched = t.make_order(w.a, actor=p.resident_user, household=w.hh_a1, title="门禁坏了")
    order_actions.accept_order(dispatched, actor=p.staff_a, category=category)
    order_actions.dispatch_order(dispatched, actor=p.staff_a, member=p.member)
    pooled = t.make_order(w.a, household=w.hh_a2, title="楼道灯不亮")
    order_actions.accept_order(pooled, actor=p.staff_a, category=category)
    order_actions.dispatch_order(pooled, actor=p.staff_a, pool=True)
    accepted = t.make_order(w.a, household=w.hh_a2, title="垃圾清运")
    order_actions.accept_order(accepted, actor=p.staff_a, category=category)
    # The resident's orders the member works on: claimed, in progress, resolved (to rate, reopen).
    working = []
    for title, steps in (("水管漏水", 1), ("电梯异响", 2), ("路灯修好了", 3)):
        order = t.make_order(w.a, actor=p.resident_user, household=w.hh_a1, title=title)
        order_actions.accept_order(order, actor=p.staff_a, category=category)
        order_actions.dispatch_order(order, actor=p.staff_a, member=p.member)
        order_actions.claim_order(order, actor=p.member_user)
        if steps >= 2:
            order_actions.start_order(order, actor=p.member_user)
        if steps >= 3:
            order_actions.resolve_order(order, actor=p.member_user, note="已修好", hours=1)
        working.append(order.pk)
    order_b = t.make_order(w.b, household=w.hh_b1, title=PRIVATE["order_b"])
    pooled_b = t.make_order(w.b, household=w.hh_b1, title=PRIVATE["order_b"] + "（待领）")
    order_actions.accept_order(pooled_b, actor=p.staff_b, category=category)
    order_actions.dispatch_order(pooled_b, actor=p.staff_b, pool=True)
    accepted_b = t.make_order(w.b, household=w.hh_b1, title=PRIVATE["order_b"] + "（待派）")
    order_actions.accept_order(accepted_b, actor=p.staff_b, category=category)
    # Another member of A, and a newcomer waiting for A's decision.
    other_user = t.make_user("member2", name="党员丙")
    other = t.make_member(user=other_user, home_community=w.a, name="党员丙")
    t.register_approved(other, w.a)
    newcomer = t.make_member(home_community=w.a, name="新党员")
    pending = people_actions.request_registration(newcomer, community=w.a, actor=None)
    registration_b = p.member_b.registrations.get()
    # Activities: A's with shifts the member and the other member signed up for; B's; a draft.
    activity = make_activity(w.a, actor=p.staff_a, publish=True, shifts=[(48, 2, 5), (96, 2, 1), (144, 2, 3)])
    first, second, free = activity.shifts.order_by("starts_at")
    mine = activity_actions.sign_up(first, actor=p.member_user)
    theirs = activity_actions.sign_up(second, actor=other_user)
    draft = make_activity(w.a, actor=p.staff_a, shifts=[(72, 1, 2)], title="草稿活动")
    member_b_user = t.make_user("member_b_user")
    Member.objects.filter(pk=p.member_b.pk).update(user=member_b_user)  # arrange only: B's member logs in
    activity_b = make_activity(w.b, actor=p.staff_b, publish=True, shifts=[(48, 2, 5)], title=PRIVATE["activity_b"])
    signup_b = activity_actions.sign_up(activity_b.shifts.get(), actor=member_b_user)
    activity_actions.regenerate_calendar_feed(p.member, actor=p.member_user)
    # Ledgers: the member's, and member B's.
    today = timezone.localdate()

    def record(member, community, source_id, name):
        return credit_actions.record_service(
            member,
            hours="2.0",
            source_type="manual",
            source_id=source_id,
            community=community,
            service_date=today,
            activity_name=name,
            place="活动室",
            content="服务",
            organizer=community.name,
            leader="负责人",
        )

    record_a = record(p.member, w.a, 1, "义务理发")
    credit_actions.award_points(p.member, rule="service_hours", source_type="manual", source_id=1, hours="2.0")
    record_b = record(p.member_b, w.b, 2, PRIVATE["record_b"])
    # Inboxes (arranged directly: delivery is the notification task's job).
    inbox = {}
    for user, title in (
        (p.resident_user, "居民的通知"),
        (p.member_user, "党员的通知"),
        (p.staff_a, "社区A的通知"),
        (p.staff_b, PRIVATE["inbox_b"]),
        (other_user, PRIVATE["inbox_other"]),
    ):
        inbox[user.pk] = Notification.objects.create(user=user, title=title, dedupe_key=f"seed:{user.pk}")
    # Auto-dispatch runs: A's (the accepted order to 党员甲) and B's (B's order to B's member).
    run_a = dispatch_actions.plan_dispatch(DispatchScope.resolve("community", w.a.pk), actor=p.staff_a)
    run_b = dispatch_actions.plan_dispatch(DispatchScope.resolve("community", w.b.pk), actor=p.staff_b)
    orders_b = {order_b.pk, pooled_b.pk, accepted_b.pk}
    everyone = {
        "order": {own.pk, dispatched.pk, pooled.pk, accepted.pk, *working, *orders_b},
        "activity": {activity.pk, draft.pk, activity_b.pk},
        "shift": {first.pk, second.pk, free.pk, activity_b.shifts.get().pk, draft.shifts.get().pk},
        "signup": {mine.pk, theirs.pk, signup_b.pk},
        "record": {record_a.pk, record_b.pk},
        "registration": {pending.pk, registration_b.pk, *p.member.registrations.values_list("pk", flat=True)},
        "notification": {n.pk for n in inbox.values()},
        "member": {p.member.pk, other.pk, newcomer.pk, p.member_b.pk},
        "community": {w.a.pk, w.b.pk},
        "household": {w.hh_a1.pk, w.hh_a2.pk, w.hh_b1.pk},
        "category": {category.pk},
        "unit": {w.unit.pk},
        "department": {w.dept.pk},
        "run": {run_a.pk, run_b.pk},
        "scope_id": {w.a.pk, w.b.pk, w.a1.pk, w.a2.pk, w.b1.pk, w.town.pk},
    }
    scopes = {
        ("community", w.a.pk),
        ("community", w.b.pk),
        ("grid", w.a1.pk),
        ("grid", w.a2.pk),
        ("grid", w.b1.pk),
        ("town", w.town.pk),
    }
    b_only = {
        "order": orders_b,
        "member": {p.member_b.pk},
        "resident": {p.resident_b.pk},
        "household": {w.hh_b1.pk},
        "activity": {activity_b.pk},
        "shift": {activity_b.shifts.get().pk},
        "signup": {signup_b.pk},
        "record": {record_b.pk},
        "registration": {registration_b.pk},
        "run": {run_b.pk},
        "scope": {("community", w.b.pk), ("grid", w.b1.pk), ("town", w.town.pk)},
    }

    def others_inbox(user):
        return {"notification": {n.pk for uid, n in inbox.items() if uid != user.pk}}

    def merge(*parts):
        merged = {}
        for part in parts:
            for kind, ids in part.items():
                merged.setdefault(kind, set()).update(ids)
        return merged

    forbidden = {
        "resident": merge(
            b_only,
            others_inbox(p.resident_user),
            {
                "order": everyone["order"] - {own.pk, dispatched.pk, *working},
                "activity": everyone["activity"],
                "shift": everyone["shift"],
                "signup": everyone["signup"],
                "record": everyone["record"],
                "registration": everyone["registration"],
                "household": {w.hh_a2.pk},
                "member": {other.pk, newcomer.pk},
                "run": everyone["run"],
                "scope": scopes,
            },
        ),
        "member": merge(
            b_only,
            others_inbox(p.member_user),
            {
                "order": {own.pk, accepted.pk},
                "activity": {draft.pk},
                "shift": {draft.shifts.get().pk},
                "signup": {theirs.pk},
                "registration": {pending.pk},
                "member": {newcomer.pk},
                "run": everyone["run"],
                "scope": scopes,
            },
        ),
        "staff": merge(b_only, others_inbox(p.staff_a)),
    }
    return SimpleNamespace(everyone=everyone, forbidden=forbidden)


def _walk(node, kind, found):
    """(kind, id) of every object id in a JSON body, the kind told by where the id sits."""
    if isinstance(node, list):
        for item in node:
            _walk(item, kind, found)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "id" and isinstance(value, int) and kind:
                found.append((kind, value))
            elif key == "scope" and isinstance(value, dict) and {"kind", "id"} <= set(value):
                found.append(("scope", (value["kind"], value["id"])))  # a dispatch run's grid/community/town
            elif key in ID_KIND and isinstance(value, int):
                found.append((ID_KIND[key], value))
            elif key == "items":
                _walk(value, kind, found)
            elif isinstance(value, (dict, list)):
                _walk(value, NESTED_KIND.get(key), found)
    return found


def _root_kind(path: str) -> str | None:
    rest = path.removeprefix("/api/v1/")
    if rest.endswith("/suggestions") or rest.startswith(("pool", "ledger/points", "ledger/star", "ledger/standing")):
        return None  # items hold their objects under named keys
    for prefix in sorted(ROOT_KIND, key=len, reverse=True):
        if rest.startswith(prefix):
            return ROOT_KIND[prefix]
    return None


# The document, loaded once from the WSGI app at import (serving it needs no database). Not through
# schemathesis.pytest.from_fixture: its lazy loader sets `request.node._nodeid`, which pytest 9
# no longer has (schemathesis 4.32.5); the eager loader below works with pytest 9.
# Generation only (valid and invalid data, ≥ 100 cases per operation): schemathesis' coverage phase
# (its boundary cases, ~40 more per operation) made the run 40 % longer and found nothing the
# generated cases did not, and it is built at collection, which every `make test` would pay.
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    application,
    config=schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}}),
)
# The running test's world: what the hooks and checks below read.
_current: dict = {}
# (role, operation) → [cases sent, 2xx answers, seconds]: summed up at the end of the module.
_tally: dict = {}


@pytest.fixture(scope="module", autouse=True)
def _summary(request):
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if not _tally or reporter is None:  # nothing ran, or an xdist worker (no terminal)
        return
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        _report(reporter)


def _report(reporter):
    roles = sorted({role for role, _op in _tally})
    operations = sorted({op for _role, op in _tally})
    cases = [n for n, _ok, _s in _tally.values()]
    reporter.write_line("")
    reporter.write_line(
        f"schemathesis: {len(operations)} operations × {len(roles)} roles ({', '.join(roles)}): "
        f"{sum(cases)} cases ({min(cases)}–{max(cases)} per operation and role), "
        f"{sum(ok for _n, ok, _s in _tally.values())} answered 2xx, "
        f"{sum(s for _n, _ok, s in _tally.values()):.0f} s sending and checking them"
    )
    never = sorted(f"{role} {op}" for (role, op), (_n, ok, _s) in _tally.items() if not ok)
    reporter.write_line(f"  never 2xx (outside the role's scope or its rights): {len(never)}")
    for line in never:
        reporter.write_line(f"    {line}")


def _seeded(values, kinds: dict):
    """`values` as generated, or (half the time) with its id fields set to seeded objects' ids,
    in and out of the role's scope — so that the fuzzing reaches real objects, not only 404s."""
    if not isinstance(values, dict):
        return st.just(values)
    known = _current["known"]
    names = [name for name in values if name in kinds and known.get(kinds[name])]
    if not names:
        return st.just(values)
    seeded = st.fixed_dictionaries({name: st.sampled_from(known[kinds[name]]) for name in names})
    return st.one_of(st.just(values), seeded.map(lambda ids: {**values, **ids}))


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    return _seeded(path_parameters, PARAM_KIND)


@schema.hook
def flatmap_query(context, query):
    return _seeded(query, FIELD_KIND)


@schema.hook
def flatmap_body(context, body):
    return _seeded(body, FIELD_KIND)


def within_scope(ctx, response, case):
    """A 2xx never concerns, nor names, an object outside the role's scope."""
    if not 200 <= response.status_code < 300:
        return None
    role, forbidden = _current["role"], _current["forbidden"]
    named = [(PARAM_KIND.get(name), name, value) for name, value in (case.path_parameters or {}).items()]
    # A query's `member` or a body's member, household or order to merge into (a community is not
    # private: a member may ask to register with community B).
    for part in (case.query, case.body):
        if isinstance(part, dict):
            named += [
                (FIELD_KIND[k], k, v)
                for k, v in part.items()
                if k in FIELD_KIND and FIELD_KIND[k] not in ("community", "scope_id")
            ]
            if {"scope_kind", "scope_id"} <= set(part):  # a dispatch scope: a kind and an id together
                named.append(("scope", "scope", (part["scope_kind"], part["scope_id"])))
    for kind, name, value in named:
        assert not (kind and isinstance(value, (int, tuple)) and value in forbidden.get(kind, ())), (
            f"{case.operation.label} succeeded with {name}={value}, outside the {role}'s scope"
        )
    text = response.content.decode("utf-8", "replace")
    for label, private in PRIVATE.items():
        assert private not in text, f"{case.operation.label} answered {label} ({private!r}) to the {role}"
    if text.startswith(("{", "[")):
        for kind, value in _walk(json.loads(text), _root_kind(case.path), []):
            assert value not in forbidden.get(kind, ()), (
                f"{case.operation.label} answered {kind} {value}, outside the {role}'s scope"
            )
    return None


class Token:
    """The role's bearer token. POST /auth/logout gets a throwaway one, so the role's stays valid."""

    def __init__(self, user):
        self.user = user
        self.raw = create_api_token(actor=user)[1]

    def header(self, case) -> dict:
        raw = create_api_token(actor=self.user)[1] if case.path.endswith("/auth/logout") else self.raw
        return {"Authorization": f"Bearer {raw}"}


@pytest.fixture(params=ROLES)
def role(request) -> str:
    return request.param


@pytest.fixture
def token(world, personas, settings, role):
    """The seeded world, the role's token; the rate limits off (thousands of requests a minute)."""
    settings.API_RATE_PER_MINUTE = 0
    settings.API_LOGIN_RATE_PER_MINUTE = 0
    seeded = _seed(world, personas)
    _current.update(
        role=role,
        forbidden=seeded.forbidden[role],
        known={kind: sorted(ids) for kind, ids in seeded.everyone.items()},
    )
    # The test's transaction must survive each request: Django would close the connection after it.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    user = {"resident": personas.resident_user, "member": personas.member_user, "staff": personas.staff_a}[role]
    yield Token(user)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    _current.clear()


@schema.parametrize()
@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_and_stays_in_scope(case, token):
    started = time.perf_counter()
    response = case.call_and_validate(
        headers=token.header(case), checks=[not_a_server_error, response_schema_conformance, within_scope]
    )
    tally = _tally.setdefault((_current["role"], case.operation.label), [0, 0, 0.0])
    tally[0] += 1
    tally[1] += 200 <= response.status_code < 300
    tally[2] += time.perf_counter() - started
