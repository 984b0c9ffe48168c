"""The "floor": the least a Django 5.2 + django-ninja app does to take pingan's report.

One `POST /api/incidents` validating pingan's `ReportIn` body and doing one ORM INSERT, served by
gunicorn with the same options as pingan (bench/floor/gunicorn_conf.py). `bench.bench_dispatch
--side-by-side` measures pingan against it in the same run.

    DATABASE_URL=sqlite:////tmp/floor.sqlite3 python -m bench.floor.manage migrate --run-syncdb
    DATABASE_URL=sqlite:////tmp/floor.sqlite3 python -m gunicorn \\
        -c python:bench.floor.gunicorn_conf -k gthread --threads 4 -w 2 -b 127.0.0.1:8200 \\
        bench.floor.wsgi:application
"""
