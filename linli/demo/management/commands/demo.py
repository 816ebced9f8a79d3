"""`python manage.py demo`: build the demo town (seed 000's D镇) with its demo accounts."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone
from tqdm import tqdm

from linli.accounts.models import User
from linli.demo import names
from linli.demo.town import DEFAULT_SEED, DEMO_USERNAMES, TownBuilder
from linli.orgs.models import Town


class Command(BaseCommand):
    help = "生成演示数据：黄石市D镇（10个社区/村、39,500户），含演示账号。同一 --seed 与 --scale 生成相同的数据。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=float, default=1.0, help="规模系数：1.0 为 39,500 户，0.02 为约 790 户（0.001–20）"
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="随机种子（默认固定，结果可重复）")
        parser.add_argument(
            "--if-empty", action="store_true", help="数据库中已有街道/镇时什么也不做（供 make run 使用）"
        )
        parser.add_argument(
            "--force", action="store_true", help="已有其他街道/镇时仍在其旁边生成演示镇（不删除任何数据）"
        )

    def handle(self, *args, scale, seed, if_empty, force, verbosity, **options):
        if Town.objects.exists():
            if if_empty:
                self.stdout.write("数据库中已有街道/镇数据，跳过演示数据生成。")
                return
            if not force:
                raise CommandError(
                    "数据库中已有街道/镇数据，未生成演示数据。"
                    "若要在已有数据旁另建演示镇，请加 --force；若要重建，请先清空数据库（python manage.py flush）。"
                )
        if (
            Town.objects.filter(code=names.TOWN_CODE).exists()
            or User.objects.filter(username__in=DEMO_USERNAMES).exists()
        ):
            raise CommandError(f"演示镇（{names.TOWN_CODE}）或演示账号已存在，未重复生成。请先清空数据库再运行。")
        if not 0.001 <= scale <= 20:
            raise CommandError("--scale 须在 0.001 与 20 之间")

        started = time.monotonic()
        builder = TownBuilder(scale=scale, seed=seed, now=timezone.now())
        bar = tqdm(
            total=builder.estimated_rows(), unit="行", unit_scale=True, disable=verbosity < 1, dynamic_ncols=True
        )
        builder.progress = bar.update
        try:
            with transaction.atomic():
                for label, step in builder.steps():
                    bar.set_description(label)
                    step()
        except IntegrityError as exc:
            raise CommandError(f"与数据库中已有数据冲突（编码或用户名重复），未写入任何演示数据：{exc}") from None
        finally:
            bar.total = bar.n
            bar.close()
        elapsed = time.monotonic() - started

        if verbosity >= 1:
            c = builder.counts
            self.stdout.write(
                self.style.SUCCESS(f"已生成演示镇：{names.TOWN_NAME}（规模 {scale:g}，种子 {seed}）")
                + f"\n  社区/村 {c['orgs.Community']}，网格 {c['orgs.Grid']}，小区 {c['orgs.Estate']}，"
                f"楼栋/村民小组 {c['orgs.Building']}，住户 {c['orgs.Household']:,}，居民 {c['people.Resident']:,}"
                f"\n  单位 {c['orgs.Unit']}，下沉党员/志愿者 {c['people.Member']:,}，"
                f"报到记录 {c['people.Registration']:,}，党组织 {c['orgs.PartyOrg']:,}，账号 {c['accounts.User']:,}"
                f"\n  共写入 {sum(c.values()):,} 行，用时 {elapsed:.1f} 秒。"
                "\n  运行 python manage.py demo_accounts 查看演示账号。"
            )
