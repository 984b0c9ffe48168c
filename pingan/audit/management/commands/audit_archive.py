"""Archive the audit entries older than AUDIT_RETENTION_DAYS (a daily periodic job).

They are written to a gzip JSON-lines file under AUDIT_ARCHIVE_DIR with their chain values, the
file is read back and verified, a checkpoint records the last archived number and MAC, and only
then are the entries deleted. A broken chain stops it: nothing is archived or deleted, and the
exit code is non-zero (run `manage.py audit_verify`).
"""

from django.core.management.base import BaseCommand, CommandError

from pingan.audit import integrity


class Command(BaseCommand):
    help = "Archive audit entries past the retention, verify the archive, then delete them."

    def handle(self, *args, **options):
        try:
            done = integrity.archive()
        except integrity.ArchiveError as exc:
            raise CommandError(str(exc), returncode=1) from exc
        if done is None:
            if options["verbosity"] > 0:
                self.stdout.write("没有超过保留期的审计记录")
            return
        cp = done.checkpoint
        if options["verbosity"] > 0:
            self.stdout.write(
                f"已归档第 {cp.first_seq} 至 {cp.through_seq} 条（{cp.entries} 条）到 {done.path}"
            )
