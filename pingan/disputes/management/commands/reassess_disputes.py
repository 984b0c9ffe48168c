"""`manage.py reassess_disputes [--batch N] [--rebuild]`: every open dispute against the
current risk rules, e.g. after an administrator tuned them."""

from django.core.management.base import BaseCommand, CommandError

from pingan.disputes.bulk import reassess_all


class Command(BaseCommand):
    help = "按当前预警规则重新评估全部未化解纠纷 / re-evaluate every open dispute"

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=2000, help="disputes per transaction")
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="also rebuild the statistics table from scratch (they are kept in step anyway)",
        )

    def handle(self, *args, batch, rebuild, **options):
        if batch < 1:
            raise CommandError("--batch 必须是正整数")
        result = reassess_all(batch=batch, rebuild=rebuild)
        if options["verbosity"] > 0:
            self.stdout.write(
                f"已评估 {result['evaluated']} 起未化解纠纷（{result['batches']} 批），"
                f"风险等级变化 {result['colour_changed']} 起，其中转为红色 "
                f"{result['turned_red']} 起；人工调整保持不变 {result['overridden']} 起；"
                f"评估用时 {result['seconds']:.1f} 秒"
            )
            if "stat_cells" in result:
                self.stdout.write(
                    f"统计表已重建：{result['stat_cells']} 个统计单元，"
                    f"用时 {result['rebuild_seconds']:.1f} 秒"
                )
