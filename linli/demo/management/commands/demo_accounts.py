"""`python manage.py demo_accounts`: print the demo accounts (run by `make run` after `demo`)."""

import unicodedata

from django.core.management.base import BaseCommand

from linli.accounts.models import ROLE_SCOPE_FIELD, RoleAssignment, User
from linli.demo.town import DEMO_ACCOUNTS, DEMO_PASSWORD


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def account_rows() -> list[tuple[str, str, str, str]]:
    """(username, role, scope, password) for each demo account present in the database."""
    users = {u.username: u for u in User.objects.filter(username__in=[name for name, _ in DEMO_ACCOUNTS])}
    assignments = {
        (a.user_id, a.role): a
        for a in RoleAssignment.objects.filter(user__in=users.values()).select_related(
            "town", "community", "grid__community", "unit", "department", "company"
        )
    }
    rows = []
    for username, role in DEMO_ACCOUNTS:
        user = users.get(username)
        assignment = assignments.get((user.pk, role)) if user else None
        if assignment is None:
            continue
        scope = assignment.scope_object
        if ROLE_SCOPE_FIELD[role] == "grid":
            scope_name = f"{scope.community.name} {scope.name}"
        elif scope is not None:
            scope_name = scope.name
        elif role == "member":
            profile = getattr(user, "member_profile", None)
            scope_name = (
                f"{profile.name}（{profile.unit.name if profile and profile.unit else '无单位'}）" if profile else ""
            )
        else:
            profile = getattr(user, "resident_profile", None)
            scope_name = f"{profile.name}（{profile.household.address}）" if profile else ""
        rows.append((username, str(assignment.get_role_display()), scope_name, DEMO_PASSWORD))
    return rows


class Command(BaseCommand):
    help = "列出演示账号（用户名、角色、范围、密码）。"

    def handle(self, *args, **options):
        rows = account_rows()
        if not rows:
            self.stdout.write("没有演示账号：数据库中没有演示数据（运行 python manage.py demo 生成）。")
            return
        header = ("用户名", "角色", "范围", "密码")
        widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(4)]
        self.stdout.write("演示账号（仅供演示，请勿用于生产环境）：")
        for row in [header, tuple("-" * w for w in widths), *rows]:
            self.stdout.write("  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip())
