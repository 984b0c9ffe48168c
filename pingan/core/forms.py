"""The base of every page form: Chinese messages whatever the browser's language, text that
refuses characters no text may hold, and a service's error attached back next to its field.

Forms parse what a browser sends (choices, numbers, local times) and keep what the user typed
for re-rendering; the business rules and their messages stay in the services.
"""

from django import forms
from django.core.exceptions import ValidationError

from .validation import has_forbidden_characters


def _printable_text(label: str):
    """A validator: Django's CharField refuses NUL, but a lone surrogate (which no database
    or encoder can store) gets through to the service."""

    def validate(value) -> None:
        if isinstance(value, str) and has_forbidden_characters(value):
            raise ValidationError(f"{label}含有无法保存的字符", code="forbidden_characters")

    return validate


class ChineseForm(forms.Form):
    """Django's built-in messages follow the browser's language; these pages always speak
    Chinese, so every field gets its messages here, named after its label."""

    # Service field names that differ from the form's (service name -> form field).
    field_aliases: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            label = field.label or "该项"
            choice = isinstance(field, forms.ChoiceField | forms.ModelChoiceField)
            field.error_messages.update(
                {
                    "required": f"请{'选择' if choice else '填写'}{label}",
                    "invalid": f"{label}格式不正确",
                    "invalid_choice": f"{label}的选项无效",
                    "invalid_list": f"{label}的选项无效",
                    "max_length": f"{label}不能超过 {getattr(field, 'max_length', '')} 字",
                    "min_value": f"{label}不能小于 {getattr(field, 'min_value', '')}",
                    "max_value": f"{label}不能大于 {getattr(field, 'max_value', '')}",
                    "max_digits": f"{label}的数字过大",
                    "max_decimal_places": f"{label}最多保留两位小数",
                    "max_whole_digits": f"{label}的数字过大",
                    "null_characters_not_allowed": f"{label}含有无法保存的字符",
                }
            )
            if isinstance(field, forms.DateTimeField):
                field.error_messages["invalid"] = (
                    f"{label}格式应为 年-月-日 时:分，例如 2026-11-23 09:30"
                )
            if isinstance(field, forms.IntegerField | forms.FloatField | forms.DecimalField):
                field.error_messages["invalid"] = f"{label}必须是数字"
            if isinstance(field, forms.CharField):
                field.validators.append(_printable_text(label))

    def service_error(self, exc) -> None:
        """Attach a ServiceError to the form: next to its field when it names one."""
        details = exc.details if isinstance(exc.details, dict) else {}
        field = details.get("field")
        field = self.field_aliases.get(field, field)
        self.add_error(field if field in self.fields else None, exc.message)

    def messages(self) -> list[str]:
        """Every distinct message, in field order: what the page shows above the form."""
        seen: list[str] = []
        for errors in self.errors.values():
            for message in errors:
                if message not in seen:
                    seen.append(message)
        return seen

    chinese_errors = messages
