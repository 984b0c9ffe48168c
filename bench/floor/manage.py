"""`python -m bench.floor.manage migrate --run-syncdb` creates the floor's table."""

import os
import sys


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.floor.settings"
    from django.core.management import execute_from_command_line

    execute_from_command_line(["bench.floor.manage", *sys.argv[1:]])


if __name__ == "__main__":
    main()
