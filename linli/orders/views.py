"""Pages of the 三单 loop: filing an order, my orders, the order with its timeline and verbs, a
member's tasks and pool, the community's queue, a department's escalations and follow-ups.

parse → access (get_order_for_user and the orgs/people helpers) → act (linli.orders.actions) →
respond. Every transition is a POST to a verb URL; a DomainError (Conflict, NotAllowed) becomes
a message and the page — or, for htmx, the row — is shown again. Nothing is half-saved: each
action runs in one transaction and forms are checked before it runs. Lists annotate what they
show (overdue, bounces, fit) so that no row costs a query.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import BooleanField, Case, Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.lib.errors import DomainError, NotAllowed
from linli.orders import actions
from linli.orders.access import get_order_for_user
from linli.orders.forms import (
    AcceptForm,
    DispatchForm,
    EscalateForm,
    FollowUpForm,
    MergeForm,
    NoteForm,
    OnBehalfForm,
    OrderForm,
    QueueFilterForm,
    RateForm,
    ResolveForm,
    reason_form,
)
from linli.orders.models import (
    MEMBER_LOAD_STATUSES,
    OPEN_STATUSES,
    FollowUp,
    Order,
    OrderEvent,
    OrderPhoto,
    Status,
)
from linli.orders.queries import pool_fit, pool_orders
from linli.orgs.access import get_community_for_user
from linli.orgs.models import Category, Community, Household, Unit
from linli.people.access import get_member_for_user

S = Status
PER_PAGE = 20
POLL_SECONDS = 20  # the hx-trigger of the polling templates


def _poll_cap() -> int:
    """How many polls a page makes: it stops a minute before an idle session would time out.

    Polls are not activity (they send X-Linli-Poll); a poll after the time-out would swap the
    login page into the list.
    """
    return max(0, settings.SESSION_IDLE_TIMEOUT // POLL_SECONDS - 3)


STAFF_WORK = (S.DISPATCHED, S.POOLED, S.CLAIMED, S.IN_PROGRESS)
DONE = (S.RESOLVED, S.CLOSED)
# Queue filters that stand for several statuses (the chips above the queue).
STATUS_GROUPS = {"working": STAFF_WORK, "escalation": (S.ESCALATED, S.ACKNOWLEDGED)}
PHOTO_TYPES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"RIFF", "image/webp"))


# --- who is looking -------------------------------------------------------------------------------


def _manages(scope, order) -> bool:
    """Staff of the order's community or admin of its town (no query)."""
    return scope.superuser or order.community_id in scope.community_ids or order.town_id in scope.town_ids


def _is_submitter(user, order) -> bool:
    s = user.scope
    return order.submitted_by_id == user.pk or bool(order.resident_id and order.resident_id == s.resident_id)


def _sees_contact(user, order) -> bool:
    """Who filed an anonymous order is shown to staff, the grid's workers and the filer, not to members."""
    s = user.scope
    return (
        _manages(s, order) or (order.grid_id is not None and order.grid_id in s.grid_ids) or _is_submitter(user, order)
    )


def _event_count(kind):
    """Correlated COUNT of an order's events of one kind (0 when none): one subquery, not a query per row."""
    counted = (
        OrderEvent.objects.filter(order=OuterRef("pk"), kind=kind)
        .order_by()
        .values("order")
        .annotate(c=Count("pk"))
        .values("c")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


# --- responding after a verb ----------------------------------------------------------------------


def _safe_next(request) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _landing(request, order) -> str:
    """Where to go after a verb: `next`, else the order if the user still sees it, else their list.

    Some verbs take the order out of the actor's sight (a department returning it).
    """
    target = _safe_next(request)
    if target:
        return target
    if Order.objects.visible_to(request.user).filter(pk=order.pk).exists():
        return reverse("order", args=[order.pk])
    s = request.user.scope
    if s.department_ids:
        return reverse("department_orders")
    if s.member_id:
        return reverse("tasks")
    return reverse("home")


def _respond(request, order, *, ok=None, error=None):
    """For htmx, the list row again with the outcome; otherwise a message and a redirect (PRG)."""
    if request.htmx:
        return render(request, "orders/_row_done.html", {"order": order, "ok": ok, "error": error})
    if ok:
        messages.success(request, ok)
    if error:
        messages.error(request, error)
    return redirect(_landing(request, order))


def _valid(form):
    """The form if valid, else a DomainError carrying its first message (nothing has been done yet)."""
    if form.is_valid():
        return form
    for errors in form.errors.values():
        raise DomainError(errors[0])
    raise DomainError(_("提交的内容无效"))


def _act(request, pk, do, ok):
    """The shape of every verb: the order through the access helper, `do(order)`, then respond.

    `do` may return a message that replaces `ok`.
    """
    order = get_order_for_user(request, pk, write=True)
    try:
        said = do(order)
    except DomainError as exc:
        return _respond(request, order, error=exc.message)
    return _respond(request, order, ok=said or ok)


# --- filing an order ------------------------------------------------------------------------------


def _home_household(user):
    s = user.scope
    if not s.resident_household_id:
        return None
    return Household.objects.select_related("building__grid__community").filter(pk=s.resident_household_id).first()


def _filing_communities(user, household):
    """Communities one may file a typed address in: those one sees, and one's own as a resident."""
    q = Q(id__in=Community.objects.visible_to(user).values("id"))
    if household is not None:
        q |= Q(id=household.building.grid.community_id)
    return Community.objects.filter(q).order_by("code")


def _on_behalf_households(user):
    """Households a grid worker (their grids) or community staff (their communities) files for."""
    s = user.scope
    q = Q(building__grid_id__in=s.grid_ids) | Q(building__grid__community_id__in=s.community_ids)
    return (
        Household.objects.visible_to(user)
        .filter(q)
        .select_related("building__grid")
        .order_by("building__grid__code", "building__name", "entrance", "door", "id")
    )


def _duplicates(category, household):
    """Open orders of the category in the household's building, else in its grid (two queries at most)."""
    if category is None or household is None:
        return [], ""
    same = list(actions.duplicate_candidates(category=category, household=household).select_related("category"))
    if same:
        return same, "building"
    grid = household.building.grid
    return list(actions.duplicate_candidates(category=category, grid=grid).select_related("category")), "grid"


@login_required
def order_new(request):
    """群众下单 (a resident, at home or at an address) or, with ?for=grid, 网格员代办 for a household."""
    user = request.user
    s = user.scope
    on_behalf = request.GET.get("for") == "grid"
    data = request.POST if request.method == "POST" else None
    files = request.FILES if request.method == "POST" else None
    household = None
    if on_behalf:
        if not (s.grid_ids or s.community_ids):
            raise Http404("not a grid worker or community staff")
        towns = Community.objects.filter(Q(id__in=s.grid_community_ids) | Q(id__in=s.community_ids))
        form = OnBehalfForm(data, files, households=_on_behalf_households(user), town_ids=towns.values("town_id"))
        # Choosing the household refills the resident select (htmx); without JS it stays "不指定".
        form.fields["household"].widget.attrs.update(
            {
                "hx-get": reverse("order_new_residents"),
                "hx-trigger": "change",
                "hx-target": "#id_resident",
                "hx-swap": "innerHTML",
            }
        )
    else:
        household = _home_household(user)
        communities = _filing_communities(user, household)
        if household is None and not communities.exists():
            raise Http404("nowhere to file")
        form = OrderForm(data, files, household=household, communities=communities)
    if data is not None and form.is_valid():
        order = _submit(request, form, on_behalf=on_behalf, household=household)
        if order is not None:
            messages.success(request, _("已提交，社区将尽快受理。工单号 #%(pk)s") % {"pk": order.pk})
            return redirect("order", order.pk)
    dups, dup_scope = _form_duplicates(form, on_behalf=on_behalf, household=household)
    return render(
        request,
        "orders/new.html",
        {
            "form": form,
            "on_behalf": on_behalf,
            "household": household,
            "dups": dups,
            "dup_scope": dup_scope,
            "max_photos": actions.MAX_PHOTOS,
        },
    )


def _submit(request, form, *, on_behalf, household):
    d = form.cleaned_data
    kwargs = {
        "actor": request.user,
        "title": d["title"],
        "description": d["description"],
        "kind": d["kind"],
        "category": d["category"],
        "anonymous": d["anonymous"],
        "photos": request.FILES.getlist("photos"),
    }
    if on_behalf:
        resident = d["resident"]
        kwargs.update(
            household=d["household"],
            resident=resident,
            channel=d["channel"],
            contact_name=d["contact_name"] or (resident.name if resident else ""),
            contact_phone=d["contact_phone"] or (resident.phone if resident else ""),
        )
    elif d["where"] == "home" and household is not None:
        kwargs["household"] = household
    else:
        kwargs.update(community=d["community"], address=d["address"])
    try:
        return actions.submit_order(**kwargs)
    except DomainError as exc:
        messages.error(request, exc.message)
        return None


def _form_duplicates(form, *, on_behalf, household):
    """The duplicates of what a re-shown form says (the fields that were valid)."""
    data = getattr(form, "cleaned_data", {}) if form.is_bound else {}
    if on_behalf:
        household = data.get("household")
    elif data.get("where") != "home":
        household = None
    return _duplicates(data.get("category"), household)


@login_required
def order_duplicates(request):
    """htmx: open orders like the one being filed (same category, same building or grid)."""
    s = request.user.scope
    category = _int(request.GET.get("category"))
    category = Category.objects.filter(pk=category).first() if category else None
    household = _int(request.GET.get("household"))
    if household:
        household = Household.objects.visible_to(request.user).select_related("building__grid").filter(pk=household)
        household = household.first()
    elif request.GET.get("where", "home") == "home" and s.resident_household_id:
        household = _home_household(request.user)
    else:
        household = None
    dups, dup_scope = _duplicates(category, household)
    return render(request, "orders/new.html#dups", {"dups": dups, "dup_scope": dup_scope})


@login_required
def order_new_residents(request):
    """htmx: the resident options of the household chosen on the on-behalf form."""
    household = _int(request.GET.get("household"))
    form = OnBehalfForm({"household": household or ""}, households=_on_behalf_households(request.user), town_ids=[])
    return render(request, "orders/new.html#resident_options", {"form": form})


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- my orders and the order itself ------------------------------------------------------------


@login_required
def my_orders(request):
    """The orders I filed (or that were filed for me), newest first; the list refreshes itself."""
    user = request.user
    s = user.scope
    mine = Q(submitted_by=user)
    if s.resident_id:
        mine |= Q(resident_id=s.resident_id)
    orders = (
        Order.objects.visible_to(user)
        .filter(mine)
        .select_related("category", "community")
        .order_by("-created_at", "-id")
    )
    page = Paginator(orders, PER_PAGE).get_page(request.GET.get("page"))
    template = "orders/mine.html#list" if request.htmx else "orders/mine.html"
    return render(request, template, {"page": page, "polls": _int(request.GET.get("n")) or 0, "poll_cap": _poll_cap()})


def _timeline(events, order, *, hide_submitter):
    labels = dict(S.choices)
    rows = []
    for e in events:
        if e.actor_id is None:
            who = _("系统")
        elif hide_submitter and e.actor_id == order.submitted_by_id:
            who = _("居民")
        else:
            who = str(e.actor)
        outcome = ""
        if e.kind == OrderEvent.Kind.FOLLOW_UP:
            outcome = FollowUp.Outcome(e.data.get("outcome")).label if e.data.get("outcome") else ""
        rows.append(
            {
                "e": e,
                "who": who,
                "from": labels.get(e.from_status, ""),
                "to": labels.get(e.to_status, ""),
                "outcome": outcome,
                "stands_out": e.kind in (OrderEvent.Kind.BOUNCE, OrderEvent.Kind.REOPEN, OrderEvent.Kind.OVERDUE),
            }
        )
    return rows


def _merge_targets(order):
    """Open orders of the community the order may be merged into: likely duplicates first."""
    qs = Order.objects.open().filter(community_id=order.community_id).exclude(pk=order.pk)
    if order.category_id:
        qs = qs.filter(category_id=order.category_id)
    if order.building_id:
        qs = qs.filter(building_id=order.building_id)
    elif order.grid_id:
        qs = qs.filter(grid_id=order.grid_id)
    return list(qs.order_by("-created_at")[:5])


def _panels(request, order):
    """What this user may do to this order now: a flag per verb, and the data its form needs."""
    user = request.user
    s = user.scope
    st = order.status
    manages = _manages(s, order)
    p = {"manages": manages}
    if manages:
        p["can_accept"] = p["can_reject"] = st == S.SUBMITTED
        p["can_merge"] = st in (S.SUBMITTED, S.ACCEPTED)
        p["can_dispatch"] = p["can_escalate"] = st == S.ACCEPTED
        p["can_recall"] = st in STAFF_WORK
        p["can_reopen"] = st in DONE
        if p["can_accept"]:
            p["accept_form"] = AcceptForm(order=order)
        if p["can_merge"]:
            p["merge_targets"] = _merge_targets(order)
        if p["can_dispatch"]:
            p["units"] = list(Unit.objects.filter(pairings__community_id=order.community_id).order_by("code"))
            p["escalate_form"] = EscalateForm(order=order)
    p["can_follow_up"] = st in DONE and (manages or (order.grid_id is not None and order.grid_id in s.grid_ids))
    if p["can_follow_up"]:
        p["follow_up_form"] = FollowUpForm()
    me = s.member_id
    if me:
        to_me = st == S.DISPATCHED and (
            order.assignee_id == me
            or (order.assignee_id is None and order.assignee_unit_id and order.assignee_unit_id == s.member_unit_id)
        )
        from_pool = st == S.POOLED and order.community_id in s.member_community_ids
        mine = order.assignee_id == me
        p["can_claim"] = to_me or from_pool
        p["from_pool"] = from_pool
        p["can_decline"] = to_me or (mine and st in (S.CLAIMED, S.IN_PROGRESS))
        p["can_start"] = mine and st == S.CLAIMED
        p["can_resolve_member"] = mine and st == S.IN_PROGRESS
        if p["can_claim"]:
            p["fit_errors"] = actions.member_fit_errors(get_member_for_user(request, me), order)
    in_department = order.department_id is not None and order.department_id in s.department_ids
    p["can_acknowledge"] = in_department and st == S.ESCALATED
    p["can_return"] = in_department and st in (S.ESCALATED, S.ACKNOWLEDGED)
    p["can_resolve_department"] = in_department and st == S.ACKNOWLEDGED
    submitter = _is_submitter(user, order)
    p["can_cancel"] = submitter and st in (S.SUBMITTED, S.ACCEPTED)
    p["can_rate"] = submitter and st == S.RESOLVED
    if p["can_rate"]:
        p["rate_form"] = RateForm()
    p["any"] = any(v for k, v in p.items() if k.startswith("can_"))
    return p


@login_required
def order_detail(request, pk):
    """The order, its photos, its whole timeline, and the verbs this user may use now."""
    order = get_order_for_user(request, pk)
    user = request.user
    events = list(order.events.select_related("actor").order_by("at", "id"))
    hide = order.anonymous and not _sees_contact(user, order)
    photos = list(order.photos.order_by("uploaded_at", "id"))
    contact_name = contact_phone = ""
    if not hide:
        resident = order.resident if order.resident_id else None
        contact_name = order.contact_name or (resident.name if resident else "")
        contact_phone = order.contact_phone_masked or (resident.phone_masked if resident else "")
    return render(
        request,
        "orders/detail.html",
        {
            "order": order,
            "overdue": order.is_overdue(),
            "timeline": _timeline(events, order, hide_submitter=hide),
            "bounces": sum(e.kind == OrderEvent.Kind.BOUNCE for e in events),
            "reopens": sum(e.kind == OrderEvent.Kind.REOPEN for e in events),
            "submitted_photos": [ph for ph in photos if ph.stage == OrderPhoto.Stage.SUBMITTED],
            "result_photos": [ph for ph in photos if ph.stage == OrderPhoto.Stage.RESULT],
            "hours": list(order.hours.select_related("member").order_by("id")) if order.resolved_at else [],
            "hidden_contact": hide,
            "contact_name": contact_name,
            "contact_phone": contact_phone,
            "p": _panels(request, order),
            "max_photos": actions.MAX_PHOTOS,
            "poll_cap": _poll_cap(),
        },
    )


@login_required
def order_status(request, pk):
    """htmx polling: the status badge, with a reload link once it differs from what the page shows."""
    order = get_order_for_user(request, pk)
    return render(
        request,
        "orders/_status.html",
        {
            "order": order,
            "poll": True,
            "was": request.GET.get("was", order.status),
            "changed": request.GET.get("was", order.status) != order.status,
            "polls": _int(request.GET.get("n")) or 0,
            "poll_cap": _poll_cap(),
        },
    )


@login_required
def order_photo(request, pk, photo_pk):
    """A photo of an order the user may see; the type comes from the bytes, not from the name."""
    order = get_order_for_user(request, pk)
    photo = order.photos.filter(pk=photo_pk).first()
    if photo is None:
        raise Http404("no such photo")
    try:
        handle = photo.image.open("rb")
    except FileNotFoundError:  # the row outlived its file (a restore without media)
        raise Http404("photo file missing") from None
    head = handle.read(8)
    handle.seek(0)
    content_type = next((t for magic, t in PHOTO_TYPES if head.startswith(magic)), "application/octet-stream")
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- verbs: triage and dispatch (staff) ---------------------------------------------------------


@require_POST
@login_required
def order_accept(request, pk):
    def do(order):
        d = _valid(AcceptForm(request.POST, order=order)).cleaned_data
        # The kind goes to the action only when staff change it: accept_order currently passes it
        # on to _transition(), where `kind` names the event's kind (see the report to the lead).
        kind = d["kind"] if d["kind"] != order.kind else None
        actions.accept_order(
            order, actor=request.user, category=d["category"], priority=d["priority"], kind=kind, note=d["note"]
        )

    return _act(request, pk, do, _("已受理，请派单"))


@require_POST
@login_required
def order_reject(request, pk):
    def do(order):
        d = _valid(reason_form(_("请填写不予受理的原因"))(request.POST)).cleaned_data
        actions.reject_order(order, actor=request.user, reason=d["reason"])

    return _act(request, pk, do, _("已不予受理，居民会收到原因"))


@require_POST
@login_required
def order_merge(request, pk):
    def do(order):
        d = _valid(MergeForm(request.POST)).cleaned_data
        try:
            into = get_order_for_user(request, d["into"])
        except Http404:
            raise DomainError(_("工单 #%(pk)s 不存在") % {"pk": d["into"]}) from None
        actions.merge_order(order, into=into, actor=request.user, note=d["note"])
        return _("已合并至 #%(pk)s") % {"pk": into.pk}

    return _act(request, pk, do, "")


@require_POST
@login_required
def order_dispatch(request, pk):
    def do(order):
        d = _valid(DispatchForm(request.POST)).cleaned_data
        member = unit = None
        if d["member"]:
            try:
                member = get_member_for_user(request, d["member"])
            except Http404:
                raise DomainError(_("党员不存在，或不在您的范围内")) from None
        if d["unit"]:
            unit = Unit.objects.visible_to(request.user).filter(pk=d["unit"]).first()
            if unit is None:
                raise DomainError(_("单位不存在，或不在您的范围内"))
        actions.dispatch_order(order, actor=request.user, member=member, unit=unit, pool=d["pool"], note=d["note"])
        if member is not None:
            return _("已派给%(name)s") % {"name": member.name}
        if unit is not None:
            return _("已派给%(name)s") % {"name": unit.name}
        return _("已发布到领单池")

    return _act(request, pk, do, "")


@require_POST
@login_required
def order_recall(request, pk):
    def do(order):
        actions.recall_order(order, actor=request.user, note=_valid(NoteForm(request.POST)).cleaned_data["note"])

    return _act(request, pk, do, _("已收回，可重新派单"))


@require_POST
@login_required
def order_escalate(request, pk):
    def do(order):
        d = _valid(EscalateForm(request.POST, order=order)).cleaned_data
        actions.escalate_order(order, actor=request.user, department=d["department"], due=d["due"], note=d["note"])
        return _("已吹哨至%(name)s") % {"name": d["department"].name}

    return _act(request, pk, do, "")


@require_POST
@login_required
def order_reopen(request, pk):
    def do(order):
        d = _valid(reason_form(_("请填写重新办理的原因"))(request.POST)).cleaned_data
        actions.reopen_order(order, actor=request.user, reason=d["reason"])

    return _act(request, pk, do, _("已重新办理，工单回到待派单"))


# --- verbs: the member ------------------------------------------------------------------------------


@require_POST
@login_required
def order_claim(request, pk):
    def do(order):
        actions.claim_order(order, actor=request.user)

    return _act(request, pk, do, _("已接单"))


@require_POST
@login_required
def order_decline(request, pk):
    def do(order):
        d = _valid(reason_form(_("请填写拒单原因"))(request.POST)).cleaned_data
        actions.decline_order(order, actor=request.user, reason=d["reason"])

    return _act(request, pk, do, _("已退回社区重新派单"))


@require_POST
@login_required
def order_start(request, pk):
    def do(order):
        actions.start_order(order, actor=request.user)

    return _act(request, pk, do, _("已开始办理"))


@require_POST
@login_required
def order_resolve(request, pk):
    """The member reports the result with hours, or the department resolves an acknowledged order."""

    def do(order):
        d = _valid(ResolveForm(request.POST)).cleaned_data
        by_department = order.status == S.ACKNOWLEDGED
        if not by_department and d["hours"] is None:
            raise DomainError(_("请填写服务时长"))
        actions.resolve_order(
            order,
            actor=request.user,
            note=d["note"],
            hours=None if by_department else d["hours"],
            photos=request.FILES.getlist("photos"),
        )

    return _act(request, pk, do, _("已办结，等待居民评价"))


# --- verbs: the resident, the department, the grid worker --------------------------------------------


@require_POST
@login_required
def order_cancel(request, pk):
    def do(order):
        actions.cancel_order(order, actor=request.user, reason=_valid(NoteForm(request.POST)).cleaned_data["note"])

    return _act(request, pk, do, _("已撤销"))


@require_POST
@login_required
def order_rate(request, pk):
    def do(order):
        d = _valid(RateForm(request.POST)).cleaned_data
        actions.rate_order(order, actor=request.user, rating=d["rating"], comment=d["comment"])
        if d["rating"] == "unsatisfied":
            return _("感谢反馈，社区将重新办理")
        return _("感谢评价")

    return _act(request, pk, do, "")


@require_POST
@login_required
def order_acknowledge(request, pk):
    def do(order):
        actions.acknowledge_order(order, actor=request.user, note=_valid(NoteForm(request.POST)).cleaned_data["note"])

    return _act(request, pk, do, _("已报到，请按时限办理"))


@require_POST
@login_required
def order_return(request, pk):
    def do(order):
        d = _valid(reason_form(_("请填写退回原因"))(request.POST)).cleaned_data
        actions.return_order(order, actor=request.user, reason=d["reason"])

    return _act(request, pk, do, _("已退回社区"))


@require_POST
@login_required
def order_follow_up(request, pk):
    def do(order):
        d = _valid(FollowUpForm(request.POST)).cleaned_data
        actions.record_follow_up(order, actor=request.user, outcome=d["outcome"], note=d["note"])

    return _act(request, pk, do, _("已记录回访"))


# --- the member's lists -------------------------------------------------------------------------------


def _own_member(request):
    s = request.user.scope
    if not s.member_id:
        raise Http404("not a member")
    return get_member_for_user(request, s.member_id)


@login_required
def tasks(request):
    """Orders assigned to me (dispatched, claimed, in progress) and those dispatched to my unit."""
    member = _own_member(request)
    mine = Q(assignee_id=member.pk, status__in=MEMBER_LOAD_STATUSES)
    if member.unit_id:
        mine |= Q(status=S.DISPATCHED, assignee__isnull=True, assignee_unit_id=member.unit_id)
    orders = (
        Order.objects.visible_to(request.user)
        .filter(mine)
        .with_overdue_flag()
        .select_related("community", "grid", "category", "assignee_unit")
        .order_by("-is_overdue", F("resolve_by").asc(nulls_last=True), "-priority", "id")
    )
    page = Paginator(orders, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "orders/tasks.html", {"member": member, "page": page})


@login_required
def pool(request):
    """领单池: what I may claim, best fit first, each with why I can't claim it when I can't."""
    member = _own_member(request)
    load = Order.objects.filter(assignee_id=member.pk, status__in=MEMBER_LOAD_STATUSES).count()
    page = Paginator(pool_orders(request.user, member), PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"order": o, "errors": pool_fit(o, member=member, load=load)[1]} for o in page]
    return render(request, "orders/pool.html", {"member": member, "load": load, "page": page, "rows": rows})


# --- the community's queue --------------------------------------------------------------------------


@login_required
def community_queue(request, pk):
    """The dispatcher's queue: the community's orders, overdue first, filtered and paginated."""
    try:
        community = get_community_for_user(request, pk, write=True)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    form = QueueFilterForm(request.GET or None, community=community)
    filters = form.cleaned_data if form.is_valid() else {}
    base = Order.objects.visible_to(request.user).filter(community=community)
    orders = base.with_overdue_flag().select_related("category", "grid", "assignee", "assignee_unit", "department")
    status = filters.get("status") or ""
    if status == "":
        orders = orders.filter(status__in=OPEN_STATUSES)
    elif status in STATUS_GROUPS:
        orders = orders.filter(status__in=STATUS_GROUPS[status])
    elif status != "all":
        orders = orders.filter(status=status)
    if filters.get("category"):
        orders = orders.filter(category=filters["category"])
    if filters.get("grid"):
        orders = orders.filter(grid=filters["grid"])
    if filters.get("overdue"):
        orders = orders.filter(is_overdue=True)
    orders = orders.annotate(
        n_bounces=_event_count(OrderEvent.Kind.BOUNCE), n_reopens=_event_count(OrderEvent.Kind.REOPEN)
    ).order_by("-is_overdue", "-priority", "created_at", "id")
    page = Paginator(orders, PER_PAGE).get_page(request.GET.get("page"))
    counts = (
        base.filter(status__in=OPEN_STATUSES)
        .with_overdue_flag()
        .aggregate(
            submitted=Count("id", filter=Q(status=S.SUBMITTED)),
            accepted=Count("id", filter=Q(status=S.ACCEPTED)),
            working=Count("id", filter=Q(status__in=STAFF_WORK)),
            escalated=Count("id", filter=Q(status__in=[S.ESCALATED, S.ACKNOWLEDGED])),
            overdue=Count("id", filter=Q(is_overdue=True)),
        )
    )
    return render(
        request,
        "orders/queue.html",
        {"community": community, "form": form, "page": page, "counts": counts, "filtered": bool(filters)},
    )


# --- the department and the grid worker -------------------------------------------------------------


@login_required
def department_orders(request):
    """Orders escalated to my departments (吹哨), due first, each with how often it bounced."""
    s = request.user.scope
    if not s.department_ids:
        raise Http404("not department staff")
    mine = Order.objects.visible_to(request.user).filter(department_id__in=s.department_ids)
    annotated = mine.select_related("community", "category", "department").annotate(
        n_bounces=_event_count(OrderEvent.Kind.BOUNCE),
        is_late=Case(
            When(escalation_due__lt=timezone.now(), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )
    current = annotated.filter(status__in=[S.ESCALATED, S.ACKNOWLEDGED]).order_by(
        F("escalation_due").asc(nulls_last=True), "id"
    )
    page = Paginator(current, PER_PAGE).get_page(request.GET.get("page"))
    done = annotated.filter(status__in=DONE).order_by(F("resolved_at").desc(nulls_last=True), "-id")[:10]
    return render(request, "orders/department.html", {"page": page, "done": done})


@login_required
def follow_ups(request):
    """回访: resolved or closed orders in my grids (or my communities) with no follow-up yet, newest first."""
    s = request.user.scope
    if not (s.grid_ids or s.community_ids):
        raise Http404("not a grid worker or community staff")
    pending = (
        Order.objects.visible_to(request.user)
        .filter(Q(grid_id__in=s.grid_ids) | Q(community_id__in=s.community_ids), status__in=DONE)
        .filter(~Exists(FollowUp.objects.filter(order=OuterRef("pk"))))
        .select_related("community", "grid", "category", "assignee", "department")
        .order_by(Coalesce("closed_at", "resolved_at", "updated_at").desc(), "-id")
    )
    page = Paginator(pending, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "orders/followups.html", {"page": page, "form": FollowUpForm()})
