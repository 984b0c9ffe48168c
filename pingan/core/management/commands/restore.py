"""`manage.py restore <file> [--force]`: a backup made by `manage.py backup` back into the
configured database (pingan/core/backup.py).

Refuses a file of the other engine, a damaged file, and a database that already has tables
unless --force (then its whole content is replaced). Stop the service first.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from pingan.core.backup import BackupError, restore


class Command(BaseCommand):
    help = "从备份文件恢复数据库 / restore the database from a backup file"

    def add_arguments(self, parser):
        parser.add_argument("path", help="备份文件 / the backup file to read")
        parser.add_argument(
            "--force",
            action="store_true",
            help="覆盖非空数据库 / replace the content of a database that is not empty",
        )
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args, **options):
        path = Path(options["path"])
        try:
            engine = restore(path, options["database"], force=options["force"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"已恢复 / restored ({engine}) from {path.resolve()}")
