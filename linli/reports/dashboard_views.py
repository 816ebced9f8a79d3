"""Dashboards: a town, a community, a grid (三率, trends, members, grid coverage, comparisons) and the
town's department league. Read-only pages; the figures come from linli.reports.dashboards.

Access: a town's pages are for its town admins; a community's for its staff and town admins; a
grid's for those and the grid's workers. Anything else is a 404.
"""

import datetime as dt
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.actions import record_audit
from linli.accounts.models import AuditEntry
from linli.lib import xlsx
from linli.lib.errors import NotAllowed
from linli.orgs.access import get_community_for_user, get_grid_for_user, get_town_for_user
from linli.reports import dashboards as d
from linli.reports.dashboard_rollup import rolled_through

PRESET_LABELS = (
    ("month", gettext_lazy("本月")),
    ("last_month", gettext_lazy("上月")),
    ("quarter", gettext_lazy("本季度")),
    ("year", gettext_lazy("今年")),
)
# (sort key, header, numeric) for the comparison table; the first column is the name.
COMPARISON_COLUMNS = (
    ("households", gettext_lazy("户数"), True),
    ("registered", gettext_lazy("报到党员"), True),
    ("active", gettext_lazy("活跃党员"), True),
    ("submitted", gettext_lazy("新增工单"), True),
    ("response_rate", gettext_lazy("响应率"), True),
    ("resolve_rate", gettext_lazy("办结率"), True),
    ("satisfaction_rate", gettext_lazy("满意率"), True),
    ("mean_resolve", gettext_lazy("平均办结时长"), True),
    ("overdue", gettext_lazy("当前超时"), True),
    ("reopened", gettext_lazy("重新办理"), True),
    ("bounced", gettext_lazy("部门退回"), True),
    ("short_workers", gettext_lazy("缺网格员"), True),
)
LEAGUE_COLUMNS = (
    ("received", gettext_lazy("收到吹哨"), True),
    ("acknowledged", gettext_lazy("报到"), True),
    ("ack_rate", gettext_lazy("及时报到率"), True),
    ("resolved", gettext_lazy("办结"), True),
    ("resolve_rate", gettext_lazy("按时办结率"), True),
    ("returned", gettext_lazy("退回"), True),
    ("return_rate", gettext_lazy("退回率"), True),
    ("reopened", gettext_lazy("重新办理"), True),
    ("waiting", gettext_lazy("待报到"), True),
    ("overdue", gettext_lazy("超时未办结"), True),
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- access ---------------------------------------------------------------------------------------


def _manages(scope, community) -> bool:
    """Town admin of the community's town or staff of the community (no query)."""
    return scope.superuser or community.town_id in scope.town_ids or community.pk in scope.community_ids


def _community_for_user(request, pk):
    """The community for its staff and its town's admins; a 404 for everyone else (grid workers too)."""
    try:
        return get_community_for_user(request, pk, write=True)
    except NotAllowed:
        raise Http404("not staff of this community") from None


# --- formatting -------------------------------------------------------------------------------------


def duration_text(value: dt.timedelta | None, unit_of: dt.timedelta | None = None) -> str:
    """A duration in minutes, hours or days, the unit chosen by `unit_of` (default: the value), so
    that two durations side by side (this period, the one before) share one unit."""
    if value is None:
        return "—"
    hours = value.total_seconds() / 3600
    scale = hours if unit_of is None else unit_of.total_seconds() / 3600
    if scale < 1:
        return _("%(n)d 分钟") % {"n": round(hours * 60)}
    if scale < 48:
        return _("%(n).1f 小时") % {"n": hours}
    return _("%(n).1f 天") % {"n": hours / 24}


def _durations(now, before) -> tuple[str, str]:
    """This period's and the previous period's duration in the same unit (that of the larger)."""
    larger = max((v for v in (now, before) if v is not None), default=None)
    return duration_text(now, larger), duration_text(before, larger)


def _delta(now, before) -> dict | None:
    """Change of a rate in percentage points, for the arrow beside it."""
    if now is None or before is None:
        return None
    points = (now - before) * 100
    return {"points": f"{abs(points):.1f}", "up": points > 0.05, "down": points < -0.05}


def _cell(key: str, row) -> str:
    value = getattr(row, key)
    if key.endswith("_rate"):
        return d.percent(value)
    if key == "mean_resolve":
        # Hours throughout the column (not "2.0 天" beside "40.5 小时"), so it reads down.
        return "—" if value is None else _("%(n).1f 小时") % {"n": value.total_seconds() / 3600}
    return str(value)


# --- the shared body of the three dashboards --------------------------------------------------------------


def _period_links(request, period) -> list[dict]:
    return [
        {"key": key, "label": label, "href": f"?period={key}", "current": period.preset == key}
        for key, label in PRESET_LABELS
    ]


def _sort_headers(period, columns, key: str, desc: bool, *, name_label) -> list[dict]:
    """Header links that sort by a column; the current column's link flips its direction."""
    headers = []
    for col, label, numeric in (("name", name_label, False), *columns):
        # The sorted column flips; numbers sort largest first on the first click, names A→Z.
        target = (col if desc else f"-{col}") if col == key else (f"-{col}" if numeric else col)
        headers.append(
            {
                "key": col,
                "label": label,
                "num": numeric,
                "href": f"?{period.query}&{urlencode({'sort': target})}",
                "active": col == key,
                "desc": desc,
            }
        )
    return headers


def _sort_param(request) -> str:
    raw = request.GET.get("sort") or ""
    if request.GET.get("dir") == "desc" and not raw.startswith("-"):
        raw = f"-{raw}"
    return raw


def _body(request, scope: d.Scope) -> dict:
    """Everything the three dashboards share: about twelve aggregate queries."""
    today = timezone.localdate()
    now = timezone.now()
    period = d.parse_period(request.GET, today)
    cells = d.order_cells(scope, period, now)  # one pass over the orders for the rates, trend and table
    m, pm = d.three_rates(scope, period, now, cells)
    rates = [
        {
            "key": "response",
            "label": _("响应率"),
            "now": d.percent(m.response_rate),
            "before": d.percent(pm.response_rate),
            "detail": f"{m.responded_in_time}/{m.accepted}",
            "delta": _delta(m.response_rate, pm.response_rate),
        },
        {
            "key": "resolve",
            "label": _("办结率"),
            "now": d.percent(m.resolve_rate),
            "before": d.percent(pm.resolve_rate),
            "detail": f"{m.resolved_in_time}/{m.due}",
            "delta": _delta(m.resolve_rate, pm.resolve_rate),
        },
        {
            "key": "satisfaction",
            "label": _("满意率"),
            "now": d.percent(m.satisfaction_rate),
            "before": d.percent(pm.satisfaction_rate),
            "detail": f"{m.satisfied}/{m.rated}",
            "delta": _delta(m.satisfaction_rate, pm.satisfaction_rate),
        },
    ]
    figures = [
        (_("新增诉求"), m.submitted, pm.submitted),
        (_("受理量"), m.accepted, pm.accepted),
        (_("平均响应时长"), *_durations(m.mean_respond, pm.mean_respond)),
        (_("平均办结时长"), *_durations(m.mean_resolve, pm.mean_resolve)),
        (_("重新办理"), m.reopened, pm.reopened),
        (_("部门退回"), m.bounced, pm.bounced),
    ]

    events = d.MonthlyEvents(scope, period)
    trend = d.monthly_trend(scope, period, now, events, cells)
    categories = d.volume_by_category(scope, period)
    for c in categories:
        if c["name"] is None:
            c["name"] = _("其他类别") if c["id"] == "other" else _("未分类")
    returns = d.returns_by_department(scope, period)
    for r in returns:
        if r["id"] is None:
            r["name"] = _("党员/单位办理")
    activity = d.member_activity(scope, period, today)
    sizings = d.grid_sizings(scope)
    bucket_labels = [_("0 小时"), _("0–5 小时"), _("5–10 小时"), _("10–20 小时"), _("20 小时及以上")]

    charts = {
        "trend": {
            "kind": "trend",
            "x": [row.name for row in trend],
            "bars": [{"name": _("新增诉求"), "data": [row.submitted for row in trend]}],
            "lines": [
                {"name": _("响应率"), "data": [d.percent_number(row.response_rate) for row in trend]},
                {"name": _("办结率"), "data": [d.percent_number(row.resolve_rate) for row in trend]},
                {"name": _("满意率"), "data": [d.percent_number(row.satisfaction_rate) for row in trend]},
            ],
            "label": _("近12个月工单量与三率"),
        },
        "categories": {
            "kind": "hbar",
            "y": [c["name"] for c in categories],
            "data": [c["n"] for c in categories],
            "name": _("新增诉求"),
            "label": _("本期各类别工单量"),
        },
        "hours": {
            "kind": "bar",
            # Short labels under the bars (five fit 360 px on one line); the table below has the long ones.
            "x": ["0", "0–5", "5–10", "10–20", "≥20"],
            "unit": _("服务时长（小时）"),
            "data": list(activity.buckets),
            "name": _("党员人数"),
            "label": _("今年服务时长分布"),
        },
    }
    flagged = [s for s in sizings if s.breaks_rule]
    return {
        "period": period,
        "period_links": _period_links(request, period),
        "metrics": m,
        "previous": pm,
        "rates": rates,
        "figures": [{"label": f[0], "now": f[1], "before": f[2]} for f in figures],
        "trend": [
            {
                "month": row.name,
                "submitted": row.submitted,
                "response": d.percent(row.response_rate),
                "resolve": d.percent(row.resolve_rate),
                "satisfaction": d.percent(row.satisfaction_rate),
            }
            for row in trend
        ],
        "categories": categories,
        "returns": returns,
        "activity": activity,
        "active_pct": d.percent(activity.active_rate),
        "pace_pct": d.percent(activity.on_pace_rate),
        "activity_bar": d.bar_width(activity.active, activity.registered),
        "pace_bar": d.bar_width(activity.on_pace, activity.registered),
        "hours_rows": list(zip(bucket_labels, activity.buckets, strict=True)),
        "sizings": sizings,
        "flagged": flagged,
        "charts": charts,
        "now": now,
        "events": events,
        "cells": cells,
    }


def _comparison(request, scope: d.Scope, ctx: dict, *, name_label) -> None:
    """The comparison table (communities of a town, grids of a community), sorted by ?sort=."""
    rows = d.breakdown(scope, ctx["period"], ctx["now"], ctx["sizings"], ctx["events"], ctx["cells"])
    key, desc = d.parse_sort(_sort_param(request), d.SORT_KEYS)
    unassigned = [r for r in rows if r.key is None]
    rows = d.sort_rows([r for r in rows if r.key is not None], key, desc) + unassigned
    ctx |= {
        "rows": [
            {
                "row": r,
                "cells": [
                    {"key": col, "label": label, "value": _cell(col, r)} for col, label, _n in COMPARISON_COLUMNS
                ],
            }
            for r in rows
        ],
        "headers": _sort_headers(ctx["period"], COMPARISON_COLUMNS, key, desc, name_label=name_label),
        "sort_key": key,
        "sort_desc": desc,
        "sort_choices": [("name", name_label), *[(c, label) for c, label, _n in COMPARISON_COLUMNS]],
    }


def _queue(community, **params) -> str:
    """The community's order queue (a Community or its pk), filtered by `params`."""
    url = reverse("community_queue", args=[getattr(community, "pk", community)])
    return f"{url}?{urlencode(params)}" if params else url


# --- pages ------------------------------------------------------------------------------------------------


@login_required
def town_dashboard(request, pk):
    """A town: the three rates, trends, members, grids, and its communities side by side."""
    town = get_town_for_user(request, pk)
    scope = d.Scope(town=town, through=rolled_through())
    ctx = _body(request, scope)
    _comparison(request, scope, ctx, name_label=_("社区/村"))
    for item in ctx["rows"]:
        row = item["row"]
        item["href"] = reverse("community_dashboard", args=[row.key]) + f"?{ctx['period'].query}"
        item["overdue_href"] = _queue(row.key, overdue="on")
    ctx |= {
        "town": town,
        "level": "town",
        "title": _("%(name)s 数据看板") % {"name": town.name},
        "export_href": reverse("town_dashboard_xlsx", args=[town.pk]) + f"?{ctx['period'].query}"
        f"&sort={'-' if ctx['sort_desc'] else ''}{ctx['sort_key']}",
        "league_href": reverse("department_league", args=[town.pk]) + f"?{ctx['period'].query}",
    }
    return render(request, "reports/dashboard_town.html", ctx)


@login_required
def community_dashboard(request, pk):
    """A community: the same figures, with its grids side by side; drill down to a grid."""
    community = _community_for_user(request, pk)
    scope = d.Scope(town=community.town, community=community, through=rolled_through())
    ctx = _body(request, scope)
    _comparison(request, scope, ctx, name_label=_("网格"))
    for item in ctx["rows"]:
        row = item["row"]
        if row.key is None:
            row.name = _("未分网格")
            continue  # the queue has no "without a grid" filter: no link that would list others
        item["href"] = reverse("grid_dashboard", args=[row.key]) + f"?{ctx['period'].query}"
        item["overdue_href"] = _queue(community.pk, grid=row.key, overdue="on")
    s = request.user.scope
    ctx |= {
        "town": community.town,
        "community": community,
        "level": "community",
        "title": _("%(name)s 数据看板") % {"name": community.name},
        "town_href": (
            reverse("town_dashboard", args=[community.town_id])
            if s.superuser or community.town_id in s.town_ids
            else ""
        ),
        "queue_links": [
            (_("未办结"), _queue(community.pk)),
            (_("当前超时"), _queue(community.pk, overdue="on")),
            (_("吹哨中"), _queue(community.pk, status="escalation")),
            (_("全部工单"), _queue(community.pk, status="all")),
        ],
    }
    return render(request, "reports/dashboard_community.html", ctx)


@login_required
def grid_dashboard(request, pk):
    """A grid: the same figures for its orders and the members living in it; links to its orders."""
    grid = get_grid_for_user(request, pk)
    community = grid.community
    scope = d.Scope(town=community.town, community=community, grid=grid, through=rolled_through())
    ctx = _body(request, scope)
    s = request.user.scope
    manages = _manages(s, community)
    ctx |= {
        "town": community.town,
        "community": community,
        "grid": grid,
        "level": "grid",
        "title": _("%(name)s 数据看板") % {"name": grid.name},
        "sizing": ctx["sizings"][0] if ctx["sizings"] else None,
        "manages": manages,
        "community_href": reverse("community_dashboard", args=[community.pk]) if manages else "",
        "town_href": reverse("town_dashboard", args=[community.town_id])
        if s.superuser or community.town_id in s.town_ids
        else "",
        "queue_links": (
            [
                (_("未办结"), _queue(community.pk, grid=grid.pk)),
                (_("当前超时"), _queue(community.pk, grid=grid.pk, overdue="on")),
                (_("吹哨中"), _queue(community.pk, grid=grid.pk, status="escalation")),
                (_("全部工单"), _queue(community.pk, grid=grid.pk, status="all")),
            ]
            if manages
            else []
        ),
    }
    return render(request, "reports/dashboard_grid.html", ctx)


XLSX_HEADERS = (
    gettext_lazy("社区/村"),
    gettext_lazy("户数"),
    gettext_lazy("报到党员"),
    gettext_lazy("活跃党员"),
    gettext_lazy("新增工单"),
    gettext_lazy("受理量"),
    gettext_lazy("按时响应"),
    gettext_lazy("响应率（%）"),
    gettext_lazy("应办结量"),
    gettext_lazy("按时办结"),
    gettext_lazy("办结率（%）"),
    gettext_lazy("评价量"),
    gettext_lazy("满意"),
    gettext_lazy("满意率（%）"),
    gettext_lazy("平均办结时长（小时）"),
    gettext_lazy("当前超时"),
    gettext_lazy("重新办理"),
    gettext_lazy("部门退回"),
    gettext_lazy("缺网格员"),
)


@login_required
def town_dashboard_xlsx(request, pk):
    """The town's community comparison table, in the page's order, as .xlsx; audited."""
    town = get_town_for_user(request, pk)
    scope = d.Scope(town=town, through=rolled_through())
    today, now = timezone.localdate(), timezone.now()
    period = d.parse_period(request.GET, today)
    rows = d.breakdown(scope, period, now, d.grid_sizings(scope))
    key, desc = d.parse_sort(_sort_param(request), d.SORT_KEYS)
    rows = d.sort_rows([r for r in rows if r.key is not None], key, desc)
    data = (
        [
            r.name,
            r.households,
            r.registered,
            r.active,
            r.submitted,
            r.accepted,
            r.responded_in_time,
            d.percent_number(r.response_rate),
            r.due,
            r.resolved_in_time,
            d.percent_number(r.resolve_rate),
            r.rated,
            r.satisfied,
            d.percent_number(r.satisfaction_rate),
            d.hours_number(r.mean_resolve),
            r.overdue,
            r.reopened,
            r.bounced,
            r.short_workers,
        ]
        for r in rows
    )
    title = _("社区对比 %(a)s 至 %(b)s") % {"a": period.start.isoformat(), "b": period.last.isoformat()}
    output, count = xlsx.write_table(
        [str(h) for h in XLSX_HEADERS], data, title=title, widths=(16, *([10] * (len(XLSX_HEADERS) - 1)))
    )
    record_audit(
        request.user,
        AuditEntry.Action.EXPORT,
        obj=town,
        detail={
            "report": "community_comparison",
            "rows": count,
            "start": period.start.isoformat(),
            "end": period.last.isoformat(),
        },
        request=request,
    )
    return FileResponse(
        output,
        as_attachment=True,
        filename=f"communities-{town.code}-{period.start.isoformat()}-{period.last.isoformat()}.xlsx",
        content_type=XLSX_TYPE,
    )


@login_required
def department_league(request, pk):
    """The town's departments side by side: escalations received, acknowledged and resolved in time,
    returned and reopened; sortable by any column."""
    town = get_town_for_user(request, pk)
    today, now = timezone.localdate(), timezone.now()
    period = d.parse_period(request.GET, today)
    rows = d.department_league(town, period, now)
    key, desc = d.parse_sort(_sort_param(request), d.LEAGUE_SORT_KEYS)
    rows = d.sort_rows(rows, key, desc, keys=d.LEAGUE_SORT_KEYS)
    details = {
        "ack_rate": lambda r: f"{r.acknowledged_in_time}/{r.acknowledged}",
        "resolve_rate": lambda r: f"{r.resolved_in_time}/{r.resolved}",
        "return_rate": lambda r: f"{r.returned}/{r.received}",
    }
    cells = [
        {
            "row": r,
            "cells": [
                {
                    "key": col,
                    "label": label,
                    "value": d.percent(getattr(r, col)) if col.endswith("_rate") else str(getattr(r, col)),
                    "detail": details[col](r) if col in details else "",
                }
                for col, label, _n in LEAGUE_COLUMNS
            ],
        }
        for r in rows
    ]
    return render(
        request,
        "reports/dashboard_departments.html",
        {
            "town": town,
            "period": period,
            "period_links": _period_links(request, period),
            "rows": cells,
            "headers": _sort_headers(period, LEAGUE_COLUMNS, key, desc, name_label=_("职能部门")),
            "sort_key": key,
            "sort_desc": desc,
            "sort_choices": [("name", _("职能部门")), *[(c, label) for c, label, _n in LEAGUE_COLUMNS]],
            "title": _("%(name)s 职能部门吹哨报到") % {"name": town.name},
            "dashboard_href": reverse("town_dashboard", args=[town.pk]) + f"?{period.query}",
        },
    )
