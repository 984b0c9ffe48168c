"""gunicorn settings for the HTTP workers (`pingan serve` runs `-c python:pingan.gunicorn_conf`).

The app is imported once in the master (`preload_app`), the per-process reference data (the
grid index, the reference caches) is built there too and shared copy-on-write by the workers,
and every database connection is closed before the workers fork, so no socket is shared.
"""

preload_app = True
# A worker is recycled only when stuck; a slow upload over a weak village signal is not stuck.
timeout = 120
graceful_timeout = 20
keepalive = 5
accesslog = None
errorlog = "-"
loglevel = "warning"
# Heartbeat files in memory, not on a possibly slow disk.
worker_tmp_dir = "/dev/shm"  # noqa: S108 - gunicorn's documented choice on Linux


def when_ready(server):
    from pingan.serving import warm_up

    warm_up()


def post_fork(server, worker):
    from django.db import connections

    # Connections opened by the master (warm-up) belong to it; a worker opens its own.
    for conn in connections.all(initialized_only=True):
        conn.close()
