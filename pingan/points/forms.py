"""Page forms for points and the rewards shops. They parse what a browser sends and keep it for
re-rendering; the business rules and their messages stay in the services."""

from django import forms

from pingan.core.forms import ChineseForm
from pingan.orgs.services import visible_orgs

from .models import EntryKind, LimitPeriod, OrderStatus, ShopKind
from .services import MAX_QUANTITY

MAX_PRICE = 1_000_000
MAX_STOCK = 1_000_000
MAX_ID = 2**31 - 1


def _text(label, max_length, *, required=False, **attrs):
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        strip=True,
        widget=forms.TextInput(attrs),
    )


class NoNulForm(ChineseForm):
    """Browsers can send NUL characters, which the databases refuse: a Chinese error instead."""

    def clean(self):
        data = super().clean()
        for name, value in list(data.items()):
            if isinstance(value, str) and "\x00" in value:
                self.add_error(name, f"{self.fields[name].label}包含无效字符")
        return data


# --- residents ----------------------------------------------------------------------------------


class RedeemForm(NoNulForm):
    item = forms.IntegerField(label="商品", min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    quantity = forms.IntegerField(
        label="兑换数量",
        min_value=1,
        max_value=MAX_QUANTITY,
        initial=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1, "max": MAX_QUANTITY}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].error_messages.update(
            {k: "未找到该商品" for k in ("required", "invalid", "min_value", "max_value")}
        )


class CancelForm(NoNulForm):
    reason = _text("取消原因", 200, placeholder="可不填")


# --- clerks -------------------------------------------------------------------------------------


class VerifyForm(NoNulForm):
    code = _text(
        "核销码",
        40,
        required=True,
        autocomplete="off",
        autocapitalize="characters",
        spellcheck="false",
        placeholder="例如 ABCDE 23456",
    )


# --- console ------------------------------------------------------------------------------------


class LedgerFilterForm(NoNulForm):
    person = _text("人员", 40, placeholder="手机号或用户名")
    kind = forms.ChoiceField(
        label="类型", required=False, choices=[("", "全部类型"), *EntryKind.choices]
    )
    month = _text("月份", 7, placeholder="2026-11", pattern="[0-9]{4}-[0-9]{1,2}")


class ShopForm(NoNulForm):
    name = _text("兑换点名称", 64, required=True)
    kind = forms.ChoiceField(label="类型", choices=ShopKind.choices)
    org = forms.ChoiceField(label="所属单位")
    address = _text("地址", 200)
    phone = _text("电话", 30, inputmode="tel")
    opening_hours = _text("营业时间", 64, placeholder="例如 每天 8:00-18:00")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        orgs = visible_orgs(user).order_by("path").only("code", "name", "path")[:3000]
        self.fields["org"].choices = [(o.code, "　" * max(o.depth - 1, 0) + o.name) for o in orgs]
        self.fields["org"].error_messages["invalid_choice"] = "所属单位不在您的辖区内"


class ShopEditForm(NoNulForm):
    name = _text("兑换点名称", 64, required=True)
    address = _text("地址", 200)
    phone = _text("电话", 30, inputmode="tel")
    opening_hours = _text("营业时间", 64)
    active = forms.BooleanField(label="营业中", required=False)


class ItemForm(NoNulForm):
    item = forms.IntegerField(
        label="商品", min_value=1, max_value=MAX_ID, required=False, widget=forms.HiddenInput
    )
    name = _text("商品名称", 64, required=True)
    description = _text("说明", 300)
    points_price = forms.IntegerField(
        label="所需积分",
        min_value=1,
        max_value=MAX_PRICE,
        widget=forms.NumberInput(attrs={"min": 1, "inputmode": "numeric"}),
    )
    stock = forms.IntegerField(
        label="库存",
        min_value=0,
        max_value=MAX_STOCK,
        widget=forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}),
    )
    # The stock the editor saw: a changed figure is saved only if the stock is still this
    # (redemptions may have taken some meanwhile), see services.save_item.
    expected_stock = forms.IntegerField(
        min_value=0, max_value=MAX_STOCK * 11, required=False, widget=forms.HiddenInput
    )
    limit_per_person = forms.IntegerField(
        label="每人限兑",
        min_value=1,
        max_value=999,
        required=False,
        widget=forms.NumberInput(attrs={"min": 1, "placeholder": "不限"}),
    )
    limit_period = forms.ChoiceField(
        label="限兑周期", choices=LimitPeriod.choices, initial=LimitPeriod.TOTAL
    )
    active = forms.BooleanField(label="上架", required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["points_price"].error_messages["min_value"] = "所需积分必须是正整数"
        self.fields["points_price"].error_messages["invalid"] = "所需积分必须是正整数"
        self.fields["stock"].error_messages["min_value"] = "库存不能为负数"
        self.fields["stock"].error_messages["invalid"] = "库存必须是整数"


class RestockForm(NoNulForm):
    item = forms.IntegerField(label="商品", min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    quantity = forms.IntegerField(
        label="补货数量",
        min_value=1,
        max_value=MAX_STOCK,
        widget=forms.NumberInput(attrs={"min": 1, "inputmode": "numeric"}),
    )


class ClerkAddForm(NoNulForm):
    username = _text("店员账号", 150, required=True, placeholder="店员的登录用户名")


class ClerkRemoveForm(NoNulForm):
    user = forms.IntegerField(label="店员", min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)


class OrderCancelForm(NoNulForm):
    order = _text("订单号", 24, required=True)
    reason = _text("取消原因", 200, required=True)


ORDER_FILTERS = [("", "全部订单"), *OrderStatus.choices]
