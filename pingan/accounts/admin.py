"""The Django admin, for the system and security administrators only (三员分立, see
permissions.py). Signing in to it goes through the site's own sign-in (lock-out, second factor);
who may change which account field depends on who is asking."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

from . import lockout, totp
from .models import ADMIN_ROLES, ApiToken, LoginLock, User
from .permissions import may_use_admin
from .roles import is_security_admin
from .signals import announce


def _may_secure(user) -> bool:
    return is_security_admin(user) or user.is_superuser


def _admin_login(request, extra_context=None):
    """The admin has no sign-in of its own: the site's counts failures and asks for the
    second factor. Someone signed in without admin rights is refused, not asked again."""
    if request.user.is_authenticated:
        raise PermissionDenied("只有系统管理员和安全管理员可以进入后台")
    return redirect_to_login(request.get_full_path(), reverse("login"))


def _admin_password_change(request, extra_context=None):
    # One password change for everyone: the site's checks the rules and the second factor,
    # revokes the phone apps' tokens and is audited.
    return redirect("account-password")


admin.site.login = _admin_login  # type: ignore[method-assign]
admin.site.password_change = _admin_password_change  # type: ignore[method-assign]
admin.site.has_permission = lambda request: may_use_admin(request.user)  # type: ignore[method-assign]
admin.site.site_header = "平安 · 系统后台"
admin.site.site_title = "平安后台"

# Fields by who may change them. Nobody makes a superuser here (`manage.py createsuperuser` on
# the server, itself audited), and nobody changes their own role.
ORDINARY = ("username", "display_name", "phone", "org", "is_active")
SECURITY = ("role", "groups", "user_permissions", "must_change_password")
NEVER = ("is_superuser", "is_staff", "password_changed_at", "last_login", "date_joined")


class ResetPasswordForm(AdminPasswordChangeForm):
    """A password set by an administrator is temporary: the owner must replace it at the next
    sign-in, and the account's phone apps are signed out."""

    def save(self, commit=True):
        user = super().save(commit=False)
        user.must_change_password = True
        if commit:
            user.save()
            ApiToken.objects.filter(user=user).delete()
        return user


@admin.register(User)
class PinganUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "role", "org", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("username", "display_name")
    actions = ["unlock", "reset_totp", "revoke_tokens"]
    change_password_form = ResetPasswordForm
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("个人信息", {"fields": ("display_name", "phone", "org")}),
        ("角色与权限", {"fields": ("role", "is_active", "groups", "user_permissions")}),
        ("安全", {"fields": ("must_change_password", "password_changed_at", "is_superuser")}),
        ("时间", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "role", "display_name", "org", "password1", "password2"),
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        user = request.user
        readonly = set(NEVER)
        if not _may_secure(user):
            readonly |= set(SECURITY) - {"role"} if obj is None else set(SECURITY)
        if obj is not None and obj.pk == user.pk:
            readonly |= {"role", "groups", "user_permissions", "is_active"}
        return tuple(sorted(readonly))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        role = form.base_fields.get("role")
        if role is not None and not _may_secure(request.user):
            # The system administrator provisions business accounts, not administrators.
            role.choices = [c for c in role.choices if c[0] not in ADMIN_ROLES]
        return form

    def save_model(self, request, obj, form, change):
        before = (
            User.objects.filter(pk=obj.pk).values("role", "is_active").first() if change else None
        )
        if not change:
            # Made by someone else: its owner chooses the real password at first sign-in.
            obj.must_change_password = True
        if obj.role in ADMIN_ROLES and not (
            is_security_admin(request.user) or request.user.is_superuser
        ):
            raise PermissionDenied("只有安全管理员可以授予管理员角色")
        super().save_model(request, obj, form, change)
        if before is None:
            announce(
                "account_created", user=obj, actor=request.user, request=request, role=obj.role
            )
        elif before["role"] != obj.role:
            announce(
                "role_changed",
                user=obj,
                actor=request.user,
                request=request,
                old=before["role"],
                new=obj.role,
            )

    def user_change_password(self, request, id, form_url=""):
        # Resetting someone's password is the security administrator's.
        if not _may_secure(request.user):
            raise PermissionDenied("只有安全管理员可以重置密码")
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = User.objects.filter(pk=id).first()
            announce("password_reset", user=user, actor=request.user, request=request)
        return response

    def has_delete_permission(self, request, obj=None):
        # Accounts are deactivated, not deleted: the audit and the records name them.
        return False

    @admin.action(description="解除登录锁定")
    def unlock(self, request, queryset):
        if not _may_secure(request.user):
            raise PermissionDenied("只有安全管理员可以解除锁定")
        for user in queryset:
            if lockout.unlock(user.username):
                announce("unlocked", user=user, actor=request.user, request=request)
        messages.success(request, "已解除所选账号的登录锁定")

    @admin.action(description="重置动态口令（下次登录重新绑定）")
    def reset_totp(self, request, queryset):
        if not _may_secure(request.user):
            raise PermissionDenied("只有安全管理员可以重置动态口令")
        for user in queryset:
            totp.reset(user, actor=request.user, request=request)
        messages.success(request, "已重置所选账号的动态口令")

    @admin.action(description="退出全部设备上的登录（吊销令牌）")
    def revoke_tokens(self, request, queryset):
        if not _may_secure(request.user):
            raise PermissionDenied("只有安全管理员可以吊销令牌")
        for user in queryset:
            n = ApiToken.objects.filter(user=user).delete()[0]
            if n:
                announce("token_revoked", user=user, actor=request.user, request=request, count=n)
        messages.success(request, "已吊销所选账号的全部令牌")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "device", "created_at", "last_used_at", "expires_at")
    search_fields = ("user__username",)
    fields = ("user", "device", "created_at", "last_used_at", "expires_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        announce("token_revoked", user=obj.user, actor=request.user, request=request, token=obj.pk)
        super().delete_model(request, obj)


@admin.register(LoginLock)
class LoginLockAdmin(admin.ModelAdmin):
    list_display = ("kind", "key", "failures", "first_failure_at", "locked_until")
    list_filter = ("kind",)
    search_fields = ("key",)
    readonly_fields = ("kind", "key", "failures", "first_failure_at", "locked_until")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
