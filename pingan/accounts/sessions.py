"""Page sessions by role (等保 level 3): staff sessions end after SESSION_IDLE_SECONDS idle
(Django's expiry, renewed on each page load) and STAFF_SESSION_MAX_HOURS after sign-in whatever
happens; residents stay signed in for RESIDENT_SESSION_IDLE_SECONDS idle. An account that must
choose a new password sees only the password page until it has."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.shortcuts import redirect
from django.urls import reverse

from pingan.core import clock

from . import passwords
from .models import User

AUTH_AT = "pingan_auth_at"
BACKEND = "django.contrib.auth.backends.ModelBackend"


def is_staff_session(user: User) -> bool:
    return user.is_staff_role or user.needs_totp or user.is_staff


def start(request, user: User) -> None:
    """Sign the user in on this browser (every step done): a new session key, its start time,
    and the idle limit of the user's kind."""
    django_login(request, user, backend=BACKEND)
    request.session[AUTH_AT] = clock.now().isoformat()
    request.session.set_expiry(
        settings.SESSION_IDLE_SECONDS
        if is_staff_session(user)
        else settings.RESIDENT_SESSION_IDLE_SECONDS
    )


def too_old(session, user: User, now: datetime) -> bool:
    """Whether a staff session has passed its absolute limit. A session without a start (made
    before the rule, or by a test's force_login) is stamped on its first request instead."""
    if not is_staff_session(user):
        return False
    started = session.get(AUTH_AT)
    if not started:
        return False
    try:
        at = datetime.fromisoformat(started)
    except ValueError:
        return True
    return now - at > timedelta(hours=settings.STAFF_SESSION_MAX_HOURS)


# Pages an account with a pending password change may still open.
_OPEN_WHILE_CHANGING = ("/account/password/", "/logout/", "/login/", "/static/", "/favicon")


class SessionPolicyMiddleware:
    """After AuthenticationMiddleware, on pages and API calls."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        # Only sessions that signed someone in: token calls and anonymous visits cost nothing.
        if session is not None and session.get(SESSION_KEY) and session.get(BACKEND_SESSION_KEY):
            user = request.user
            if user.is_authenticated:
                now = clock.now()
                if not session.get(AUTH_AT) and not request.path_info.startswith("/api/"):
                    # Pages only: an API call must not write the session (core/middleware.py).
                    session[AUTH_AT] = now.isoformat()
                if too_old(session, user, now):
                    django_logout(request)
                    if not request.path_info.startswith("/api/"):
                        return redirect(f"{reverse('login')}?expired=1")
                elif (
                    not request.path_info.startswith(("/api/", *_OPEN_WHILE_CHANGING))
                    and passwords.must_change(user, now) is not None
                ):
                    return redirect("account-password")
        return self.get_response(request)
