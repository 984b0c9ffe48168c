"""Password rules (等保 level 3): what a password must be, how long a staff password lasts,
and which earlier passwords may not come back.

The validators are Django's (AUTH_PASSWORD_VALIDATORS) plus the ones here; every place that
sets a password through a form or `change_password` runs them all. `PasswordHistoryValidator`
also keeps the history: Django calls `password_changed` on every validator whenever a user with
a new password is saved (AbstractBaseUser.save), the admin's and `manage.py changepassword`
included.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError

from pingan.core import clock

from .models import STAFF_ROLES, PasswordHistory, User

# A few passwords common in China that Django's list (English sources) lacks.
CHINESE_COMMON = frozenset(
    {
        "woaini1314",
        "woaini520",
        "5201314",
        "1314520",
        "a123456",
        "aa123456",
        "qq123456",
        "abc123456",
        "123456abc",
        "a123456789",
        "pingan123",
        "pingan110",
        "gongan110",
        "jingcha110",
        "admin123",
        "admin@123",
        "p@ssw0rd",
        "passw0rd",
        "qwe123456",
        "1qaz2wsx",
        "1qaz@wsx",
        "zxcvbnm123",
    }
)


def character_classes(password: str) -> int:
    """How many of lower case, upper case, digits and other characters the password uses."""
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


class CharacterClassesValidator:
    """At least three of the four character classes."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        if character_classes(password) < self.min_classes:
            raise ValidationError(
                "密码须包含大写字母、小写字母、数字、其他符号中的至少 %(n)d 类",
                code="password_too_simple",
                params={"n": self.min_classes},
            )

    def get_help_text(self):
        return f"密码须包含大写字母、小写字母、数字、其他符号中的至少 {self.min_classes} 类。"


class UsernameInPasswordValidator:
    """The password may not contain the user name (Django's similarity check misses
    `officer1!Abc`-style passwords)."""

    def validate(self, password, user=None):
        username = (getattr(user, "username", "") or "").lower()
        if len(username) >= 3 and username in password.lower():
            raise ValidationError("密码不能包含用户名", code="password_contains_username")

    def get_help_text(self):
        return "密码不能包含用户名。"


class ChineseCommonPasswordValidator:
    def validate(self, password, user=None):
        if password.lower() in CHINESE_COMMON:
            raise ValidationError("该密码过于常见，请换一个", code="password_too_common")

    def get_help_text(self):
        return "不能使用常见密码。"


class PasswordHistoryValidator:
    """Staff may not reuse any of their last `keep` passwords; the history is kept here."""

    def __init__(self, keep: int = 5):
        self.keep = keep

    def validate(self, password, user=None):
        if user is None or user.pk is None or not _keeps_history(user):
            return
        if user.password and check_password(password, user.password):
            raise ValidationError("新密码不能与当前密码相同", code="password_reused")
        for old in _recent(user, self.keep):
            if check_password(password, old):
                raise ValidationError(
                    "不能使用最近 %(n)d 次用过的密码",
                    code="password_reused",
                    params={"n": self.keep},
                )

    def password_changed(self, password, user=None):
        if user is None or user.pk is None:
            return
        now = clock.now()
        # The hash just set on the account (save() calls this after writing it).
        PasswordHistory.objects.create(user=user, password=user.password, set_at=now)
        keep = set(
            PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[: self.keep]
        )
        PasswordHistory.objects.filter(user=user).exclude(pk__in=keep).delete()
        User.objects.filter(pk=user.pk).update(password_changed_at=now)
        user.password_changed_at = now

    def get_help_text(self):
        return f"不能使用最近 {self.keep} 次用过的密码。"


def _keeps_history(user) -> bool:
    return user.is_superuser or user.role in STAFF_ROLES or user.needs_totp


def _recent(user, keep: int) -> list[str]:
    return list(PasswordHistory.objects.filter(user=user).values_list("password", flat=True)[:keep])


def password_expired(user: User, now=None) -> bool:
    """Staff (and administrators') passwords last PASSWORD_MAX_AGE_DAYS."""
    if not _keeps_history(user) or not settings.PASSWORD_MAX_AGE_DAYS:
        return False
    changed = user.password_changed_at or user.date_joined
    return (now or clock.now()) - changed > timedelta(days=settings.PASSWORD_MAX_AGE_DAYS)


def must_change(user: User, now=None) -> str | None:
    """Why the user must choose a new password before anything else, or None."""
    if user.must_change_password:
        return "first_login"
    if password_expired(user, now):
        return "expired"
    return None
