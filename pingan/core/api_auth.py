"""API authentication: bearer tokens for phone apps, the session for the pages."""

from django.contrib.auth.models import AnonymousUser
from ninja.security import HttpBearer, SessionAuth

from pingan.accounts.services import user_for_token


class BearerAuth(HttpBearer):
    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class LoggedInSession(SessionAuth):
    """The page's session, with Django's CSRF check — but only for a request that has a
    logged-in session. A phone app without cookies must not be refused for a missing CSRF
    cookie before the anonymous path gets its turn."""

    def __call__(self, request):
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)


class AnonymousAllowed:
    """Lets a request through as anonymous only when it carries no credentials at all: a bad or
    expired token is still a 401, never a silent downgrade to an anonymous report."""

    def __call__(self, request):
        if request.headers.get("Authorization"):
            return None
        if not request.user.is_authenticated:
            return AnonymousUser()
        return None


bearer = BearerAuth()
session = LoggedInSession()
REQUIRED = [bearer, session]
OPTIONAL = [bearer, session, AnonymousAllowed()]
