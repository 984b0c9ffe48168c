"""The audit administrator's search form: time range, person, action, object, address, result."""

import ipaddress
from datetime import datetime, time

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from pingan.core.forms import ChineseForm

from .models import Action, Outcome
from .services import Search

FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def _text(label, max_length, **attrs):
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=False,
        strip=True,
        widget=forms.TextInput(attrs),
    )


def _moment(label: str, raw: str, *, end: bool):
    """'2026-12-05' (the whole day) or '2026-12-05 14:30', Beijing time."""
    for fmt in FORMATS:
        try:
            parsed = datetime.strptime(raw, fmt)
        except ValueError:
            continue
        if fmt == "%Y-%m-%d":
            parsed = datetime.combine(parsed.date(), time.max if end else time.min)
        return timezone.make_aware(parsed)
    raise ValidationError(f"{label}格式应为 年-月-日 或 年-月-日 时:分，例如 2026-12-05 09:30")


class SearchForm(ChineseForm):
    since = _text("起始时间", 19, placeholder="2026-12-01")
    until = _text("截止时间", 19, placeholder="2026-12-31 18:00")
    actor = _text("操作人", 150, placeholder="用户名或姓名")
    action = forms.ChoiceField(
        label="操作", required=False, choices=[("", "全部操作"), *Action.choices]
    )
    object = _text("对象", 64, placeholder="编号、用户名或类型")
    ip = _text("IP 地址", 45, placeholder="例如 10.0.0.7")
    outcome = forms.ChoiceField(
        label="结果", required=False, choices=[("", "全部结果"), *Outcome.choices]
    )

    def clean_since(self):
        raw = self.cleaned_data["since"]
        return _moment("起始时间", raw, end=False) if raw else None

    def clean_until(self):
        raw = self.cleaned_data["until"]
        return _moment("截止时间", raw, end=True) if raw else None

    def clean_ip(self):
        raw = self.cleaned_data["ip"]
        if not raw:
            return ""
        try:
            return str(ipaddress.ip_address(raw))
        except ValueError:
            raise ValidationError("IP 地址格式不正确，例如 10.0.0.7") from None

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "截止时间不能早于起始时间")
        return data

    def search(self) -> Search:
        data = self.cleaned_data
        return Search(
            since=data.get("since"),
            until=data.get("until"),
            actor=data.get("actor") or "",
            action=data.get("action") or "",
            object=data.get("object") or "",
            ip=data.get("ip") or "",
            outcome=data.get("outcome") or "",
        )
