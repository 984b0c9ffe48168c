"""Request middleware of our own."""

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.utils.cache import patch_vary_headers

API_PREFIX = "/api/"


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's session middleware, except that an API call saves the session only if it
    changed it.

    SESSION_SAVE_EVERY_REQUEST gives the pages their 30-minute idle timeout by writing the
    session on every request. API calls authenticated by the page's session (polling, htmx) or
    carrying its cookie alongside a bearer token would otherwise each write a session row: a
    write per API request, which serialises SQLite. An API call therefore does not extend the
    idle timeout; a page load does.
    """

    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if (
            session is None
            or not settings.SESSION_SAVE_EVERY_REQUEST
            or session.modified
            or not request.path_info.startswith(API_PREFIX)
        ):
            return super().process_response(request, response)
        if settings.SESSION_COOKIE_NAME in request.COOKIES and session.is_empty():
            # Django only deletes the stale cookie here, without a write.
            return super().process_response(request, response)
        # As Django does for an unmodified session when it does not save every request.
        if session.accessed:
            patch_vary_headers(response, ("Cookie",))
        return response
