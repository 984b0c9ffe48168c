"""Sign-in in steps (password, then the second factor or its enrolment), sign-out, and the
account page (password, authenticator, signed-in devices)."""

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth import logout as django_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from pingan.core import clock
from pingan.core.errors import ServiceError

from . import passwords, services, sessions, totp
from .forms import LoginForm, OtpForm, PasswordChangeForm
from .models import Role, User

PENDING = "pingan_pending_login"
PENDING_SECONDS = 300


def home_for(user) -> str:
    if not user.is_authenticated:
        return reverse("report")
    if user.role == Role.AUDIT_ADMIN:
        return "/audit/"
    if user.role in (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN):
        return "/admin/"
    if user.is_commander:
        return reverse("console-board")
    if user.role in (Role.OFFICER, Role.AUXILIARY):
        return reverse("unit-home")
    if user.role == Role.GRID_WORKER:
        return reverse("disputes-mine")
    if user.role == Role.VOLUNTEER:
        return reverse("volunteer-home")
    if user.role == Role.CLERK:
        return reverse("shop-verify")
    return reverse("my-reports")


def home(request):
    return redirect(home_for(request.user))


def _safe_next(request, target: str, user) -> str:
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return home_for(user)


def _page_status(exc: services.LoginError) -> int:
    # 401 promises an HTTP authentication challenge, which a form is not: a wrong password on
    # a page is a 400 like any other refused form; locks keep their 423 / 429.
    return 400 if exc.status == 401 else exc.status


def _finish(request, user: User, target: str):
    request.session.pop(PENDING, None)
    services.signed_in(request, user)
    sessions.start(request, user)
    if passwords.must_change(user):
        return redirect("account-password")
    return redirect(_safe_next(request, target, user))


def login_view(request):
    form = LoginForm(request.POST or None)
    error = None
    status = 200
    if request.method == "POST" and form.is_valid():
        target = request.GET.get("next") or ""
        try:
            user = services.check_password(
                request, form.cleaned_data["username"], form.cleaned_data["password"]
            )
        except services.LoginError as exc:
            error, status = exc.message, _page_status(exc)
        else:
            if not user.needs_totp:
                return _finish(request, user, target)
            request.session[PENDING] = {
                "uid": user.pk,
                "at": clock.now().isoformat(),
                "next": target,
            }
            return redirect("login-otp" if totp.is_enrolled(user) else "login-enrol")
    if form.errors:
        status = 400
    context = {"form": form, "error": error, "expired": request.GET.get("expired") == "1"}
    return render(request, "accounts/login.html", context, status=status)


def _pending_user(request) -> tuple[User | None, str]:
    pending = request.session.get(PENDING) or {}
    try:
        started = datetime.fromisoformat(pending["at"])
    except (KeyError, TypeError, ValueError):
        return None, ""
    if clock.now() - started > timedelta(seconds=PENDING_SECONDS):
        request.session.pop(PENDING, None)
        return None, ""
    user = User.objects.filter(pk=pending.get("uid") or 0, is_active=True).first()
    return user, pending.get("next") or ""


def login_otp(request):
    user, target = _pending_user(request)
    if user is None:
        messages.info(request, "请重新输入用户名和密码")
        return redirect("login")
    form = OtpForm(request.POST or None)
    error, status = None, 200
    if request.method == "POST" and form.is_valid():
        try:
            services.check_second_factor(request, user, form.cleaned_data["code"])
        except services.LoginError as exc:
            error, status = exc.message, _page_status(exc)
            if exc.status in (423, 429):
                request.session.pop(PENDING, None)
        else:
            return _finish(request, user, target)
    if form.errors:
        status = 400
    context = {"form": form, "error": error, "user_label": user.label}
    context["demo_code"] = _demo_code(user)
    return render(request, "accounts/login_otp.html", context, status=status)


def _demo_code(user: User) -> str:
    """In demo mode only, the current code of a demo account, so a visitor can walk the real
    two-step sign-in without an authenticator app."""
    from django.conf import settings

    if not settings.DEMO_MODE:
        return ""
    device = getattr(user, "totp", None)
    if device is None or device.confirmed_at is None:
        return ""
    return totp.code_at(device.secret, clock.now().timestamp())


def login_enrol(request):
    user, target = _pending_user(request)
    if user is None:
        messages.info(request, "请重新输入用户名和密码")
        return redirect("login")
    form = OtpForm(request.POST or None)
    error, status = None, 200
    if request.method == "POST" and form.is_valid():
        try:
            codes = totp.confirm_enrolment(user, form.cleaned_data["code"], request)
        except ServiceError as exc:
            error, status = exc.message, 400
        else:
            response = _finish(request, user, target)
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": codes, "next": response.url},
            )
    enrolment = totp.pending_enrolment(user) or totp.start_enrolment(user)
    if form.errors:
        status = 400
    return render(
        request,
        "accounts/login_enrol.html",
        {
            "form": form,
            "error": error,
            "secret": enrolment.secret,
            "qr": mark_safe(enrolment.qr_svg),  # noqa: S308 - segno's own markup
            "user_label": user.label,
        },
        status=status,
    )


@require_POST
def logout_view(request):
    django_logout(request)
    return redirect("login")


@login_required
def account(request):
    user = request.user
    return render(
        request,
        "accounts/account.html",
        {
            "needs_totp": user.needs_totp,
            "enrolled": totp.is_enrolled(user),
            "codes_left": totp.recovery_codes_left(user),
            "tokens": list(services.tokens_of(user)),
            "password_changed_at": user.password_changed_at,
            "expired": passwords.password_expired(user),
        },
    )


@login_required
def account_password(request):
    user = request.user
    form = PasswordChangeForm(request.POST or None, needs_otp=totp.is_enrolled(user))
    error, status = None, 200
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(
                request,
                user,
                form.cleaned_data["old_password"],
                form.cleaned_data["new_password"],
                otp=form.cleaned_data.get("otp") or None,
            )
        except services.LoginError as exc:
            error, status = exc.message, _page_status(exc)
        except ServiceError as exc:
            form.add_error("new_password", exc.message)
            status = 400
        else:
            user.refresh_from_db()
            update_session_auth_hash(request, user)  # this browser stays signed in
            messages.success(request, "密码已修改；其他设备上的登录已全部退出")
            return redirect("account")
    if form.errors:
        status = 400
    reason = passwords.must_change(user)
    return render(
        request,
        "accounts/password.html",
        {"form": form, "error": error, "reason": reason},
        status=status,
    )


@login_required
@require_POST
def account_token_revoke(request, token_id: int):
    try:
        services.revoke_token_by_id(token_id, actor=request.user, request=request)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已退出该设备上的登录")
    return redirect("account")


@login_required
@require_POST
def account_recovery_codes(request):
    try:
        codes = totp.regenerate_recovery_codes(request.user, request)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("account")
    return render(
        request, "accounts/recovery_codes.html", {"codes": codes, "next": reverse("account")}
    )
