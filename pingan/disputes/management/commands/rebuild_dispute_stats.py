"""`manage.py rebuild_dispute_stats`: recompute the statistics cells from the disputes."""

import time

from django.core.management.base import BaseCommand, CommandError

from pingan.disputes.models import Dispute
from pingan.disputes.stats import rebuild_stats


class Command(BaseCommand):
    help = "从纠纷数据重新计算矛盾纠纷统计表（批量导入或批量改动后使用）/ rebuild dispute stats"

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=5000, help="disputes read per chunk")

    def handle(self, *args, batch, **options):
        if batch < 1:
            raise CommandError("--batch 必须是正整数")
        started = time.perf_counter()
        cells = rebuild_stats(batch=batch)
        seconds = time.perf_counter() - started
        if options["verbosity"] > 0:
            self.stdout.write(
                f"已重建统计：{Dispute.objects.count()} 起纠纷，{cells} 个统计单元，"
                f"用时 {seconds:.1f} 秒"
            )
