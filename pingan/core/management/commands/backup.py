"""`manage.py backup <file>`: the whole database to one file (pingan/core/backup.py).

PostgreSQL: a pg_dump custom-format archive; SQLite: a copy made with the online backup API.
Both while the service runs. Restore with `manage.py restore <file>`.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from pingan.core.backup import BackupError, backup


class Command(BaseCommand):
    help = "备份整个数据库到一个文件 / back up the whole database to one file"

    def add_arguments(self, parser):
        parser.add_argument("path", help="备份文件 / the backup file to write")
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args, **options):
        path = Path(options["path"])
        try:
            engine = backup(path, options["database"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        size = path.stat().st_size
        self.stdout.write(f"已备份 / backed up ({engine}, {size} bytes): {path.resolve()}")
