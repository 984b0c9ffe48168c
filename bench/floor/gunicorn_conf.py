"""pingan's gunicorn settings (pingan/gunicorn_conf.py), for the floor app.

Every setting and hook is taken from pingan's file except `when_ready`, which warms pingan's own
caches (the grid index) and cannot run under the floor's settings. Without that file (an older
checkout), gunicorn's defaults apply, plus the persistent-connection hygiene below.
"""

try:
    from pingan import gunicorn_conf as _pingan
except ImportError:  # pragma: no cover - pingan without gunicorn settings
    _pingan = None

if _pingan is not None:
    for _name in dir(_pingan):
        if not _name.startswith("_") and _name != "when_ready":
            globals()[_name] = getattr(_pingan, _name)

if "post_fork" not in globals():

    def post_fork(server, worker):
        from django.db import connections

        for conn in connections.all(initialized_only=True):
            conn.close()
