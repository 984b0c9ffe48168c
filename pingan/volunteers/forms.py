"""Page forms for the volunteer end and the officers' task and team pages.

They parse what a browser sends (choices, numbers, local times) and keep what the user typed
for re-rendering; the business rules and their Chinese messages stay in services, whose
errors are attached back to the form by `service_error`.
"""

from django import forms
from django.conf import settings

from pingan.core.forms import ChineseForm
from pingan.orgs import services as orgs
from pingan.orgs.models import Grid, OrgUnit

from .models import Availability, Skill, TaskKind

# What a datetime-local input sends (seconds appear when the browser has them).
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
MAX_ROUTE_POINTS = 200


def _text(label, max_length, *, required=True, rows=None, **attrs):
    widget = forms.Textarea(attrs={"rows": rows, **attrs}) if rows else forms.TextInput(attrs)
    return forms.CharField(
        label=label, max_length=max_length, required=required, widget=widget, strip=True
    )


def _checkboxes(label, *, required=False):
    return forms.MultipleChoiceField(
        label=label, required=required, widget=forms.CheckboxSelectMultiple
    )


def _local(label):
    return forms.DateTimeField(
        label=label,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


# --- choices limited to what the user may pick ---------------------------------------------------


def grid_list():
    # Names only: the boundaries (the bulky part of a grid) stay in the database.
    return (
        Grid.objects.select_related("org")
        .only("code", "name", "org__name", "org__path")
        .order_by("org__path", "name")
    )


def scope_grids(user):
    """Grids in the staff user's scope: what a task or a team may be offered to or serve."""
    qs = grid_list()
    if user.is_superuser:
        return qs
    return qs.filter(org__in=orgs.visible_orgs(user))


def grid_choices(grids) -> list:
    return [(g.code, f"{g.name}（{g.org.name}）") for g in grids]


def _blank(label, choices) -> list:
    return [("", label), *choices]


# --- volunteer end -------------------------------------------------------------------------------


class ProfileForm(ChineseForm):
    real_name = _text("真实姓名", 32, autocomplete="name")
    phone = _text("手机号", 20, inputmode="tel", autocomplete="tel")
    skills = _checkboxes("我的特长（可多选）")
    availability = _checkboxes("方便服务的时间（可多选）")
    home_grid = forms.ChoiceField(label="我住在哪个社区 / 村（可选）", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["skills"].choices = Skill.choices
        self.fields["availability"].choices = Availability.choices
        self.fields["home_grid"].choices = _blank("（不填）", grid_choices(grid_list()))


class LocationForm(ChineseForm):
    """Check-in / check-out by position: filled by volunteers.js from navigator.geolocation."""

    lng = forms.FloatField(required=False, widget=forms.HiddenInput)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    crs = forms.ChoiceField(
        required=False,
        choices=[("wgs84", "wgs84"), ("gcj02", "gcj02"), ("bd09", "bd09")],
        widget=forms.HiddenInput,
    )

    def clean(self):
        data = super().clean()
        if not self.errors and (data.get("lng") is None or data.get("lat") is None):
            raise forms.ValidationError(
                "没有获取到您的位置。请允许浏览器使用定位后再试，或扫描集合点的任务二维码签到。"
            )
        return data


class ReportForm(ChineseForm):
    text = _text("任务反馈（做了什么、看到什么）", 2000, rows=4)


class ReasonForm(ChineseForm):
    reason = _text("原因", 200)


class NoteForm(ChineseForm):
    note = _text("说明（可选）", 200, required=False)


# --- officer: post a task ------------------------------------------------------------------------


class TaskForm(ChineseForm):
    field_aliases = {"location": "lng"}

    kind = forms.ChoiceField(label="任务类型")
    title = _text("标题", 100)
    description = _text("任务说明（可选）", 2000, required=False, rows=4)
    starts_at = _local("开始时间")
    ends_at = _local("结束时间")
    meeting_address = _text("集合地点", 200)
    lng = forms.FloatField(
        label="集合点经度",
        widget=forms.NumberInput(attrs={"step": "0.000001", "inputmode": "decimal"}),
    )
    lat = forms.FloatField(
        label="集合点纬度",
        widget=forms.NumberInput(attrs={"step": "0.000001", "inputmode": "decimal"}),
    )
    crs = forms.ChoiceField(
        label="坐标系",
        initial="wgs84",
        choices=[
            ("wgs84", "WGS-84（GPS、天地图）"),
            ("gcj02", "GCJ-02（高德、微信）"),
            ("bd09", "BD-09（百度）"),
        ],
    )
    route = _text("巡逻路线（可选，每行一个点：经度,纬度）", 20000, required=False, rows=3)
    checkin_radius_m = forms.IntegerField(
        label="签到半径（米）",
        required=False,
        min_value=1,
        max_value=100_000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    # No minimum here: "0 slots" must reach the service and come back with its message.
    slots = forms.IntegerField(
        label="名额",
        max_value=100_000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    teams = _checkboxes("面向队伍")
    grids = _checkboxes("面向网格（居住在这些网格的志愿者）")

    def __init__(self, *args, user, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = _blank("请选择任务类型", TaskKind.choices)
        self.fields["teams"].choices = [(t.code, f"{t.name}（{t.org.name}）") for t in teams]
        self.fields["grids"].choices = grid_choices(scope_grids(user))
        self.fields["checkin_radius_m"].widget.attrs["placeholder"] = str(
            settings.VOLUNTEER_CHECKIN_RADIUS_M
        )

    def clean_route(self) -> list[list[float]]:
        points = []
        lines = [line.strip() for line in self.cleaned_data["route"].splitlines()]
        for number, line in enumerate((line for line in lines if line), start=1):
            parts = line.replace("，", ",").replace(" ", ",").split(",")
            parts = [p for p in parts if p]
            try:
                lng, lat = (float(p) for p in parts)
            except ValueError:
                raise forms.ValidationError(
                    f"路线第 {number} 个点格式不正确，应为“经度,纬度”，例如 114.30,26.30"
                ) from None
            points.append([lng, lat])
        if len(points) > MAX_ROUTE_POINTS:
            raise forms.ValidationError(f"路线最多 {MAX_ROUTE_POINTS} 个点")
        return points


# --- console: teams ------------------------------------------------------------------------------


class TeamForm(ChineseForm):
    field_aliases = {"leader": "leader_phone"}

    name = _text("队伍名称", 64)
    org = forms.ChoiceField(label="所属单位")
    description = _text("简介（可选）", 500, required=False, rows=3)
    requires_approval = forms.BooleanField(
        label="入队需队长（或民警）审核", required=False, initial=True
    )
    leader_phone = _text("队长手机号（可选，需已填写志愿者资料）", 20, required=False)
    grids = _checkboxes("服务网格")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        units = orgs.visible_orgs(user).order_by("path")
        self.fields["org"].choices = _blank("请选择", [(str(o.pk), o.name) for o in units])
        self.fields["grids"].choices = grid_choices(scope_grids(user))

    def clean_org(self) -> OrgUnit:
        # The choices already limit this to the user's scope; the service checks again.
        return OrgUnit.objects.get(pk=int(self.cleaned_data["org"]))
