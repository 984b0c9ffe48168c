"""The HTTP workers' application (gunicorn, pingan/serving.py).

Requests under /api/ are handled by a second Django handler built with `API_MIDDLEWARE`, the
few middlewares an API call uses; pages keep the whole stack (`MIDDLEWARE`). Both run the same
URLconf and views.
"""

import os

from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings")
pages = get_wsgi_application()


class ApiHandler(WSGIHandler):
    def load_middleware(self, is_async=False):
        from django.conf import settings

        # BaseHandler reads settings.MIDDLEWARE; swap it for the build only (import time,
        # before any request and before the workers fork).
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.API_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


api = ApiHandler()
API_PREFIX = "/api/"


def application(environ, start_response):
    handler = api if environ.get("PATH_INFO", "").startswith(API_PREFIX) else pages
    return handler(environ, start_response)
