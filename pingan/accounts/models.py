"""Users, roles and API tokens."""

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models

from pingan.core.fields import BlindIndexField, EncryptedTextField


class Role(models.TextChoices):
    COMMANDER = "commander", "指挥员"
    OFFICER = "officer", "民警"
    AUXILIARY = "auxiliary", "辅警"
    GRID_WORKER = "grid_worker", "网格员"
    VOLUNTEER = "volunteer", "义警"
    CITIZEN = "citizen", "群众"
    # A rewards-shop clerk (爱心超市 / partner store): verifies redemption orders at their shop.
    CLERK = "clerk", "店员"
    # 三员分立 (GB/T 22239-2019 level 3): three administrators, none able to do another's job.
    # The system administrator keeps the platform running (org tree, grids, categories, accounts'
    # ordinary fields); the security administrator grants roles, permissions and unlocks, resets
    # second factors; the audit administrator reads and exports the audit log, and nothing else.
    SYSTEM_ADMIN = "sysadmin", "系统管理员"
    SECURITY_ADMIN = "secadmin", "安全管理员"
    AUDIT_ADMIN = "auditadmin", "审计管理员"


STAFF_ROLES = frozenset({Role.COMMANDER, Role.OFFICER, Role.AUXILIARY, Role.GRID_WORKER})
UNIT_ROLES = frozenset({Role.OFFICER, Role.AUXILIARY})
ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
# Who must sign in with a second factor (TOTP): commanders (the county centre and station
# chiefs) and the administrators; superusers too, whatever their role.
TOTP_ROLES = frozenset({Role.COMMANDER}) | ADMIN_ROLES


class User(AbstractUser):
    role = models.CharField("角色", max_length=16, choices=Role.choices, default=Role.CITIZEN)
    display_name = models.CharField("姓名", max_length=64, blank=True)
    # Encrypted at rest (SM4); found by exact value through phone_hash (pingan/core/fields.py).
    phone = EncryptedTextField("手机号", max_length=20, blank=True, help_text="E.164")
    phone_hash = BlindIndexField(source="phone", purpose="phone")
    # Staff belong to an org unit; citizens and volunteers may not.
    org = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name="所属单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    # Password rules (accounts/passwords.py): staff passwords expire; an account made or reset
    # by someone else must get a password of its owner's choosing at the next sign-in.
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True)
    must_change_password = models.BooleanField("下次登录须改密码", default=False)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self):
        return self.display_name or self.username

    @property
    def is_staff_role(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_commander(self) -> bool:
        return self.role == Role.COMMANDER or self.is_superuser

    @property
    def label(self) -> str:
        return self.display_name or self.username

    @property
    def needs_totp(self) -> bool:
        return self.is_superuser or self.role in TOTP_ROLES


class ApiToken(models.Model):
    """A bearer token for the phone apps. Only a hash is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    # What the owner sees in their list of signed-in devices ("华为手机 · 平安 App").
    device = models.CharField("设备", max_length=100, blank=True)

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self):
        return f"{self.user} 的令牌（至 {self.expires_at:%Y-%m-%d}）"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class LoginLock(models.Model):
    """Failed sign-ins counted per account name and per client address.

    Keyed by the name as typed (lower-cased), not by the account: a name that does not exist
    locks exactly as one that does, so the answers cannot tell them apart. Five failures within
    the lock period lock the name (or the address) for the period."""

    class Kind(models.TextChoices):
        NAME = "name", "账号"
        ADDRESS = "address", "地址"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    key = models.CharField(max_length=150)
    failures = models.PositiveIntegerField(default=0)
    first_failure_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "登录锁定"
        verbose_name_plural = "登录锁定"
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="login_lock_key")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.key}"


class PasswordHistory(models.Model):
    """The hashes of an account's previous passwords, so that the last few are not reused."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    set_at = models.DateTimeField()

    class Meta:
        ordering = ["-set_at", "-pk"]
        verbose_name = "历史密码"
        verbose_name_plural = "历史密码"

    def __str__(self):
        return f"{self.user} · {self.set_at:%Y-%m-%d}"


class TotpDevice(models.Model):
    """An authenticator app bound to the account (RFC 6238, 6 digits, 30 s)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp")
    # base32; encrypted at rest like personal data (whoever reads it can make codes).
    secret = EncryptedTextField(max_length=64)
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last time step accepted: a code is good once (no replay within its window).
    last_step = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "动态口令"
        verbose_name_plural = "动态口令"

    def __str__(self):
        return f"{self.user} 的动态口令"


class RecoveryCode(models.Model):
    """A one-time code for when the phone with the authenticator is lost. Hash only."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "恢复码"
        verbose_name_plural = "恢复码"

    def __str__(self):
        return f"{self.user} 的恢复码"
