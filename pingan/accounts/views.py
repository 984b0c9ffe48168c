from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import services
from .forms import LoginForm
from .models import Role


def home_for(user) -> str:
    if not user.is_authenticated:
        return reverse("report")
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


def login_view(request):
    form = LoginForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            user = services.login(
                request, form.cleaned_data["username"], form.cleaned_data["password"]
            )
        except services.LoginError as exc:
            error = exc.message
        else:
            django_login(request, user)
            target = request.GET.get("next") or ""
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
                target = home_for(user)
            return redirect(target or home_for(user))
    status = 200 if error is None and not form.errors else 400
    return render(request, "accounts/login.html", {"form": form, "error": error}, status=status)


@require_POST
def logout_view(request):
    django_logout(request)
    return redirect("login")
