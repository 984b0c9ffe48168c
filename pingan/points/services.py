"""Every points and rewards-shop state change, by name: the pages, the API, the demo and the
commands call these. The work lives in three modules — `shop` (shops, items, redemption,
cancellation, verification, order expiry), `earning` (tips, mediation help, adjustments, the
yearly expiry) and `access` (who sees what) — and the ledger itself in `ledger`.
"""

import logging

from pingan.core import clock

from .access import (
    can_manage_shop,
    get_order_for,
    get_shop_for,
    items_for,
    ledger_for,
    orders_for,
    shops_for,
)
from .earning import (
    adjust,
    award_mediation_help,
    award_tip,
    award_tips,
    expire_points,
    find_resident_by_phone,
    tip_eligible,
)
from .ledger import balance
from .shop import (
    MAX_QUANTITY,
    adjust_stock,
    cancel_order,
    create_shop,
    expire_orders,
    find_order_for_clerk,
    normalise_redeem_code,
    order_qr_svg,
    redeem,
    restock,
    save_item,
    set_clerks,
    update_shop,
    verify_order,
    verify_url,
)

log = logging.getLogger(__name__)

__all__ = [
    "MAX_QUANTITY",
    "adjust",
    "adjust_stock",
    "award_mediation_help",
    "award_tip",
    "award_tips",
    "balance",
    "can_manage_shop",
    "cancel_order",
    "create_shop",
    "expire_orders",
    "expire_points",
    "find_order_for_clerk",
    "find_resident_by_phone",
    "get_order_for",
    "get_shop_for",
    "items_for",
    "ledger_for",
    "normalise_redeem_code",
    "order_qr_svg",
    "orders_for",
    "redeem",
    "restock",
    "save_item",
    "set_clerks",
    "shops_for",
    "sweep",
    "tip_eligible",
    "update_shop",
    "verify_order",
    "verify_url",
]


def sweep(now=None) -> dict:
    """The periodic work: orders nobody collected, tips handled since the last run, and (when
    configured) the yearly expiry. Each part runs even if another fails."""
    now = now or clock.now()
    result = {}
    for name, job in (
        ("orders_expired", expire_orders),
        ("tip_entries", award_tips),
        ("points_expired", expire_points),
    ):
        try:
            result[name] = job(now)
        except Exception:
            log.exception("points sweep: %s failed", name)
            result[name] = None
    return result
