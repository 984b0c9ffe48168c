"""The app the rush benchmarks' WSGI server runs (gunicorn with `pingan.serving.gunicorn_argv`,
as `pingan serve` runs HTTP): `pingan.wsgi.application` itself inside `bench._rush.TimedWSGI`,
which adds the x-bench-* timing headers; SQL is counted through Django's `CursorWrapper`."""

from bench._rush import wsgi_application

application = wsgi_application()
