"""Walk the audit chain and name the first broken link; a non-zero exit code when there is one.

manage.py audit_verify              the entries in the database, from the last archive
                                    checkpoint to the head
manage.py audit_verify --archives   the archive files too, each against its checkpoint
"""

from django.core.management.base import BaseCommand, CommandError

from pingan.audit import chain, integrity


class Command(BaseCommand):
    help = "Verify the audit log's HMAC-SM3 chain; exit 1 and name the first broken link."

    def add_arguments(self, parser):
        parser.add_argument(
            "--archives", action="store_true", help="also read back and verify the archive files"
        )

    def handle(self, *args, archives=False, **options):
        report = integrity.verify()
        start = (
            f"自归档点第 {report.from_checkpoint} 条之后"
            if report.from_checkpoint is not None
            else "自第 1 条"
        )
        for note in report.notes:
            self.stderr.write(note)
        problems = integrity.verify_archives() if archives else []
        if report.broken is not None:
            raise CommandError(
                f"审计链断裂（{start}，已核对 {report.checked} 条）：{report.broken}", returncode=1
            )
        self.stdout.write(
            f"审计链完整：{start}核对 {report.checked} 条，链头第 {report.head_seq} 条，"
            f"校验值 {report.head_mac}，当前密钥 {chain.current_key()[0]}"
        )
        if archives:
            if problems:
                raise CommandError("归档文件有误：\n" + "\n".join(problems), returncode=1)
            self.stdout.write("归档文件完整")
