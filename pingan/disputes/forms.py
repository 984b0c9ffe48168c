"""Page forms for disputes. They parse what a browser sends (choices, numbers, dates) and keep
the user's input for re-rendering; the business rules and their messages stay in services."""

from django import forms
from django.db.models import Q

from pingan.accounts.models import Role, User
from pingan.core.forms import ChineseForm
from pingan.orgs import services as orgs
from pingan.orgs.models import Grid, OrgUnit

from .models import (
    ROUTE_BODIES,
    DisputeType,
    PartyKind,
    PartyRole,
    Risk,
    Route,
    RouteBody,
    SessionOutcome,
    SignerRole,
    VisitStatus,
    Vulnerability,
)
from .services import MAX_PARTIES, STAFF_CHANNELS, PartyInput

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


def _blank(label: str, choices) -> list:
    return [("", label), *choices]


def _text(label, max_length, *, required=False, rows=None, **attrs):
    widget = forms.Textarea(attrs={"rows": rows, **attrs}) if rows else forms.TextInput(attrs)
    return forms.CharField(
        label=label, max_length=max_length, required=required, widget=widget, strip=True
    )


# --- choices limited to what the user may pick ---------------------------------------------------


def _grid_list():
    # Names for a <select>: the boundaries (the bulky part of a grid) stay in the database.
    return (
        Grid.objects.select_related("org")
        .only("code", "name", "org__name", "org__path")
        .order_by("org__path", "name")
    )


def filing_grids(user: User):
    """Grids a staff member may file in: the ones they work in and those of their scope."""
    qs = _grid_list()
    if user.is_superuser:
        return qs
    root = orgs.scope_org(user)
    scope = Q(org__path__startswith=root.path) if root is not None else Q(pk__in=[])
    worked = Grid.objects.filter(
        Q(officer=user) | Q(auxiliaries=user) | Q(grid_workers=user)
    ).values("pk")
    return qs.filter(scope | Q(pk__in=worked))


def visible_grids(user: User):
    qs = _grid_list()
    if user.is_superuser:
        return qs
    return qs.filter(org__in=orgs.visible_orgs(user))


def grid_choices(grids) -> list:
    return [(g.code, f"{g.name}（{g.org.name}）") for g in grids]


def owner_candidates(org: OrgUnit):
    """People who may own a dispute of `org`: officers, auxiliaries and commanders of its
    station or of a unit above it (services._check_owner has the final word)."""
    station = orgs.station_of(org)
    return (
        User.objects.filter(
            role__in=(Role.OFFICER, Role.AUXILIARY, Role.COMMANDER),
            is_active=True,
        )
        .filter(Q(org__path__startswith=station.path) | Q(org_id__in=org.ancestor_ids()))
        .select_related("org")
        .order_by("org__path", "role", "display_name", "username")
    )


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.label}（{obj.get_role_display()}，{obj.org.name if obj.org_id else ''}）"


# --- party rows ----------------------------------------------------------------------------------

PARTY_TEXT = ("kind", "role", "name", "phone", "id_number", "address", "vulnerability")
PARTY_ROWS_MIN = 2  # more rows are added on the page as needed


def party_rows(data, prefix: str = "p") -> list[dict]:
    """Rows named `p-<i>-name` etc. as the page (and its add-row script) posts them; gaps in
    the numbering are fine. Returned in order, including blank rows, for re-rendering."""
    rows = []
    for i in range(MAX_PARTIES + 20):
        keys = [f"{prefix}-{i}-{name}" for name in PARTY_TEXT]
        if not any(k in data for k in keys):
            continue
        row = {name: (data.get(f"{prefix}-{i}-{name}") or "").strip() for name in PARTY_TEXT}
        row["notify"] = data.get(f"{prefix}-{i}-notify") in ("on", "1", "true")
        rows.append(row)
    return rows


def filled(rows: list[dict]) -> list[dict]:
    """Rows the user wrote something in; untouched blank rows are ignored."""
    keys = ("name", "phone", "id_number", "address")
    return [r for r in rows if any(r.get(k) for k in keys)]


def as_inputs(rows: list[dict]) -> list[PartyInput]:
    return [
        PartyInput(
            name=r["name"],
            kind=r["kind"] or PartyKind.PERSON,
            role=r["role"] or PartyRole.OTHER,
            id_number=r["id_number"],
            phone=r["phone"],
            address=r["address"],
            vulnerability=r["vulnerability"],
            notify=r["notify"],
        )
        for r in rows
    ]


def blank_row(role: str = "") -> dict:
    return {name: "" for name in PARTY_TEXT} | {"role": role, "kind": "person", "notify": False}


def padded(rows: list[dict], minimum: int = PARTY_ROWS_MIN) -> list[dict]:
    rows = list(rows)
    defaults = [PartyRole.APPLICANT, PartyRole.RESPONDENT]
    while len(rows) < minimum:
        rows.append(blank_row(defaults[len(rows)] if len(rows) < 2 else PartyRole.OTHER))
    return rows


PARTY_CHOICES = {
    "kinds": PartyKind.choices,
    "roles": PartyRole.choices,
    "vulnerabilities": Vulnerability.choices,
    # The row the page's script adds: a third party is most often "other".
    "template_row": blank_row(PartyRole.OTHER),
}


# --- intake --------------------------------------------------------------------------------------


class FileForm(ChineseForm):
    type = forms.ChoiceField(label="纠纷类型")
    channel = forms.ChoiceField(label="排查渠道")
    grid = forms.ChoiceField(label="网格")
    title = _text("事由（可选，不填取描述首句）", 80)
    narrative = _text("情况描述", 5000, required=True, rows=5)
    amount_yuan = forms.DecimalField(
        label="涉及金额（元，可选）",
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    address = _text("地点（可选）", 200)
    source_note = _text("来源说明（可选，如帖子地址、群名、来访人）", 300)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = _blank("请选择纠纷类型", DisputeType.choices)
        self.fields["channel"].choices = _blank(
            "请选择排查渠道", [(c.value, c.label) for c in STAFF_CHANNELS]
        )
        self.fields["grid"].choices = _blank("请选择网格", grid_choices(filing_grids(user)))


class ConvertForm(ChineseForm):
    type = forms.ChoiceField(label="纠纷类型")
    title = _text("事由", 80)
    narrative = _text("情况描述", 5000, required=True, rows=5)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = _blank("请选择纠纷类型", DisputeType.choices)


class RequestForm(ChineseForm):
    """A resident asking for mediation: kept short, in plain words."""

    type = forms.ChoiceField(label="纠纷类型")
    title = _text("一句话说明（可选）", 80)
    narrative = _text("发生了什么", 5000, required=True, rows=5)
    grid = forms.ChoiceField(label="所在社区 / 村")
    address = _text("具体地点（可选）", 200)
    other_name = _text("对方姓名或单位名称（可选）", 100)
    other_phone = _text("对方电话（可选）", 20, inputmode="tel")
    notify = forms.BooleanField(label="通过短信告诉我办理进展", required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = _blank("请选择纠纷类型", DisputeType.choices)
        self.fields["grid"].choices = _blank("请选择", grid_choices(_grid_list()))


# --- actions on one dispute ----------------------------------------------------------------------


class ActionForm(ChineseForm):
    """Forms of the detail page; each may offer choices that depend on the dispute."""

    def __init__(self, *args, dispute, **kwargs):
        self.dispute = dispute
        super().__init__(*args, **kwargs)


class OverrideForm(ActionForm):
    level = forms.ChoiceField(
        label="调整为",
        required=False,
        choices=[*Risk.choices, ("", "恢复规则评估")],
    )
    reason = _text("理由（必填）", 500, rows=2)


class ReviewForm(ActionForm):
    note = _text("研判意见（可选）", 500)


class AcceptForm(ActionForm):
    owner = OwnerChoiceField(label="责任人", queryset=User.objects.none(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_candidates(self.dispute.org)
        self.fields["owner"].empty_label = "网格民警（默认）"


class DeclineForm(ActionForm):
    reason = _text("不予受理的理由", 500, rows=2)


def route_body_groups() -> list:
    """Body kinds grouped by route, for <optgroup> (the page script hides other routes')."""
    return [
        (Route(route).label, [(b.value, b.label) for b in RouteBody if b in bodies])
        for route, bodies in ROUTE_BODIES.items()
    ]


class RouteForm(ActionForm):
    route = forms.ChoiceField(label="化解途径")
    body_kind = forms.ChoiceField(label="承办机构类别")
    body_name = _text("承办机构名称", 100)
    contact_name = _text("联系人", 50)
    contact_phone = _text("联系电话", 20, inputmode="tel")
    reason = _text("理由（变更途径时必填）", 500, rows=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["route"].choices = _blank("请选择化解途径", Route.choices)
        self.fields["body_kind"].choices = _blank("请选择承办机构类别", route_body_groups())


class OwnerForm(ActionForm):
    owner = OwnerChoiceField(label="新责任人", queryset=User.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_candidates(self.dispute.org)
        self.fields["owner"].empty_label = "请选择"


class NoteForm(ActionForm):
    message = _text("工作记录", 500, rows=3)


class OrderForm(ActionForm):
    owner = OwnerChoiceField(label="承办人", queryset=User.objects.none())
    deadline = forms.DateTimeField(
        label="办结时限",
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    plan = _text("跟踪计划", 2000, rows=3)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_candidates(self.dispute.org)
        self.fields["owner"].empty_label = "请选择"


class SessionForm(ActionForm):
    held_at = forms.DateTimeField(
        label="调解时间",
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    place = _text("调解地点", 100)
    participants = _text("参加人员", 500)
    outcome = forms.ChoiceField(label="调解结果")
    notes = _text("调解经过（可选）", 5000, rows=3)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = _blank("请选择", SessionOutcome.choices)


class AgreementForm(ActionForm):
    facts = _text("纠纷主要事实", 5000, rows=3)
    terms = _text("协议内容", 5000, rows=4)
    performance = _text("履行方式与期限（可选）", 500)
    mediator_body = _text("调解组织", 100)
    session = forms.TypedChoiceField(
        label="对应调解记录", coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        sessions = self.dispute.sessions.order_by("-held_at")
        self.fields["session"].choices = _blank(
            "（不关联）",
            [
                (s.pk, f"{s.held_at:%Y-%m-%d} {s.place}（{s.get_outcome_display()}）")
                for s in sessions
            ],
        )


class SignForm(ActionForm):
    agreement = forms.ChoiceField(label="协议书")
    role = forms.ChoiceField(label="签字人身份", choices=SignerRole.choices)
    party = forms.TypedChoiceField(label="当事人", coerce=int, required=False, empty_value=None)
    name = _text("签字人姓名（调解员、记录人、见证人）", 100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agreement"].choices = [
            (a.number, a.number) for a in self.dispute.agreements.order_by("-created_at")
        ]
        self.fields["party"].choices = _blank(
            "（非当事人）",
            [(p.pk, f"{p.name}（{p.get_role_display()}）") for p in self.dispute.parties.all()],
        )


class ResolveForm(ActionForm):
    note = _text("化解情况", 2000, rows=3)


class VisitForm(ActionForm):
    holds = forms.ChoiceField(
        label="协议是否履行、纠纷是否稳定",
        choices=[("yes", "稳定，协议在履行"), ("no", "出现反复")],
        widget=forms.RadioSelect,
    )
    note = _text("回访情况", 500, rows=2)
    visit = forms.TypedChoiceField(label="回访批次", coerce=int, required=False, empty_value=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        due = self.dispute.visits.filter(status=VisitStatus.DUE).order_by("due_at")
        self.fields["visit"].choices = [
            (v.pk, f"{v.after_days} 天回访（{v.due_at:%Y-%m-%d} 到期）") for v in due
        ]


class AddPartyForm(ActionForm):
    kind = forms.ChoiceField(label="类别", choices=PartyKind.choices)
    role = forms.ChoiceField(label="身份", choices=PartyRole.choices, initial=PartyRole.OTHER)
    name = _text("姓名 / 名称", 100)
    phone = _text("手机号（可选）", 20, inputmode="tel")
    id_number = _text("证件号码（可选）", 18)
    address = _text("住址（可选）", 200)
    vulnerability = forms.ChoiceField(
        label="特殊群体", choices=Vulnerability.choices, required=False
    )
    notify = forms.BooleanField(label="接收进展短信", required=False)

    def party_input(self) -> PartyInput:
        data = self.cleaned_data
        return PartyInput(
            name=data["name"],
            kind=data["kind"],
            role=data["role"],
            id_number=data["id_number"],
            phone=data["phone"],
            address=data["address"],
            vulnerability=data["vulnerability"] or "",
            notify=data["notify"],
        )
