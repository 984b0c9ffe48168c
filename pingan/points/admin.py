"""Data maintenance. Earning rules are tuned here; the ledger is read-only (every entry is
written by the services through `ledger.post`); shops and items may be edited; orders change
only through the services (the cancel action calls them, so points and stock come back)."""

from django import forms
from django.contrib import admin, messages

from pingan.accounts.models import Role, User
from pingan.core import clock
from pingan.core.errors import ServiceError
from pingan.core.sequences import next_code

from . import services
from .models import PointEntry, PointRule, RedemptionOrder, RewardItem, Shop
from .shop import MAX_STOCK


@admin.register(PointRule)
class PointRuleAdmin(admin.ModelAdmin):
    list_display = ["code", "points", "active", "task_kinds", "updated_at"]
    list_editable = ["points", "active"]
    readonly_fields = ["updated_at"]

    def get_readonly_fields(self, request, obj=None):
        # The code is what the services look rules up by.
        return [*self.readonly_fields, "code"] if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        messages.info(request, "规则已保存：只影响此后获得的积分，已记入的流水不变。")


@admin.register(PointEntry)
class PointEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "amount", "kind", "rule", "reason", "source_ref", "org"]
    list_filter = ["kind", "rule", "source_type"]
    search_fields = ["user__username", "user__display_name", "source_ref", "reason"]
    date_hierarchy = "created_at"
    list_select_related = ["user", "org"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ShopForm(forms.ModelForm):
    class Meta:
        model = Shop
        fields = [
            "name",
            "kind",
            "org",
            "address",
            "phone",
            "opening_hours",
            "lng",
            "lat",
            "clerks",
            "active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clerks"].queryset = User.objects.filter(role=Role.CLERK, is_active=True)


class RewardItemForm(forms.ModelForm):
    """`stock` is typed only for a new item. Redemptions decrement an existing item's stock at
    any moment, so the admin never writes it back as a figure: it is shown read-only, and goods
    are added or written off as a delta (`stock_change`) by `services.adjust_stock`."""

    stock_change = forms.IntegerField(
        label="库存增减",
        required=False,
        min_value=-MAX_STOCK,
        max_value=MAX_STOCK,
        help_text="补货填正数，报损填负数；只对已有商品生效",
    )

    class Meta:
        model = RewardItem
        fields = [
            "shop",
            "name",
            "description",
            "points_price",
            "stock",
            "limit_per_person",
            "limit_period",
            "active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "stock" in self.fields and self.instance.pk is not None:
            # Disabled: the submitted value is ignored, and STOCK_SAFE_FIELDS never write it.
            self.fields["stock"].disabled = True
            self.fields["stock"].help_text = "当前库存；请用“库存增减”补货或报损"

    def clean_points_price(self):
        price = self.cleaned_data["points_price"]
        if price is None or price < 1:
            raise forms.ValidationError("所需积分必须是正整数")
        return price

    def clean_limit_per_person(self):
        limit = self.cleaned_data["limit_per_person"]
        if limit == 0:
            return None
        return limit

    def clean_stock(self):
        stock = self.cleaned_data.get("stock")
        if self.instance.pk is None and stock is None:
            raise forms.ValidationError("请填写新商品的库存")
        return stock


# Every item field the admin may write; the stock changes only through services.adjust_stock.
STOCK_SAFE_FIELDS = [
    "shop",
    "name",
    "description",
    "points_price",
    "limit_per_person",
    "limit_period",
    "active",
]


def _save_item(request, item: RewardItem, form) -> None:
    """Insert a new item; update an existing one without its stock, then apply the delta."""
    if item.pk is None or item._state.adding:
        if item.created_at is None:
            item.created_at = clock.now()
        item.save()
        return
    item.save(update_fields=STOCK_SAFE_FIELDS)
    change = form.cleaned_data.get("stock_change") if form is not None else None
    if change:
        try:
            services.adjust_stock(request.user, item, change)
        except ServiceError as exc:
            messages.error(request, f"{item.name}：{exc.message}")
        else:
            messages.info(request, f"{item.name} 库存已调整 {change:+d} 件，现有 {item.stock} 件")


class RewardItemInline(admin.TabularInline):
    model = RewardItem
    form = RewardItemForm
    extra = 0
    fields = [
        "name",
        "points_price",
        "stock",
        "stock_change",
        "limit_per_person",
        "limit_period",
        "active",
    ]


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    form = ShopForm
    list_display = ["code", "name", "kind", "org", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name", "address"]
    filter_horizontal = ["clerks"]
    inlines = [RewardItemInline]

    def save_model(self, request, obj, form, change):
        now = clock.now()
        if not obj.code:
            obj.code = next_code("SP", now)
            obj.created_at = now
        obj.org_path = obj.org.path
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)
        forms_by_item = {id(f.instance): f for f in formset.forms}
        for instance in formset.new_objects:
            _save_item(request, instance, forms_by_item.get(id(instance)))
        for instance, _changed in formset.changed_objects:
            _save_item(request, instance, forms_by_item.get(id(instance)))
        for removed in formset.deleted_objects:
            removed.delete()

    def has_delete_permission(self, request, obj=None):
        # Orders keep their shop for ever; close a shop instead.
        return False


@admin.register(RewardItem)
class RewardItemAdmin(admin.ModelAdmin):
    form = RewardItemForm
    list_display = ["name", "shop", "points_price", "stock", "limit_per_person", "active"]
    list_filter = ["active", "shop"]
    search_fields = ["name", "shop__name"]

    def save_model(self, request, obj, form, change):
        _save_item(request, obj, form)

    def has_delete_permission(self, request, obj=None):
        # Orders refer to their item; take it off the shelf instead.
        return False


@admin.action(description="取消所选订单并退还积分")
def cancel_orders(modeladmin, request, queryset):
    done = refused = 0
    for order in queryset.filter(status="pending"):
        try:
            services.cancel_order(request.user, order.code, reason="管理员在后台取消")
            done += 1
        except ServiceError:
            refused += 1
    modeladmin.message_user(request, f"已取消 {done} 个订单，{refused} 个未能取消。")


@admin.register(RedemptionOrder)
class RedemptionOrderAdmin(admin.ModelAdmin):
    list_display = ["code", "user", "item", "shop", "quantity", "points", "status", "created_at"]
    list_filter = ["status", "shop"]
    search_fields = ["code", "user__username"]
    date_hierarchy = "created_at"
    list_select_related = ["user", "item", "shop"]
    actions = [cancel_orders]
    # The one-time code is not shown: whoever reads it could collect the goods.
    exclude = ["redeem_code"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in RedemptionOrder._meta.fields if f.name != "redeem_code"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
