from django import forms

from .models import Category, Outcome


def category_choices():
    rows = Category.objects.filter(active=True).order_by("code")
    return [("", "请选择警情类别")] + [(c.code, ("　" * (c.level - 1)) + c.name) for c in rows]


class ReportForm(forms.Form):
    category = forms.ChoiceField(label="警情类别")
    description = forms.CharField(
        label="发生了什么", max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    address = forms.CharField(label="地址（可选）", max_length=200, required=False)
    lat = forms.FloatField(widget=forms.HiddenInput, min_value=-90, max_value=90)
    lng = forms.FloatField(widget=forms.HiddenInput, min_value=-180, max_value=180)
    crs = forms.ChoiceField(
        choices=[("wgs84", "wgs84"), ("gcj02", "gcj02"), ("bd09", "bd09")],
        initial="wgs84",
        widget=forms.HiddenInput,
    )
    anonymous = forms.BooleanField(label="匿名报警", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()

    error_messages_zh = {
        "category": "请选择警情类别",
        "description": "请描述发生了什么（不超过 2000 字）",
        "lat": "请在地图上选择位置，或点击“使用我的位置”",
        "lng": "请在地图上选择位置，或点击“使用我的位置”",
    }

    def chinese_errors(self) -> list[str]:
        seen = []
        for field in self.errors:
            message = self.error_messages_zh.get(field, "输入有误")
            if message not in seen:
                seen.append(message)
        return seen


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(label="处置结果", choices=Outcome.choices)
    note = forms.CharField(
        label="处置说明", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    valid = forms.BooleanField(label="有效警情", required=False, initial=True)


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="满意度", coerce=int, choices=[(i, f"{i} 星") for i in range(5, 0, -1)]
    )
    comment = forms.CharField(label="评价（可选）", max_length=500, required=False)
