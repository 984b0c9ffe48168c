from django.urls import path

from . import views, views_console, views_shop

urlpatterns = [
    # Residents (phone): my points, the shop and its redeem form, my orders, one order.
    path("points/", views.mine, name="points-mine"),
    path("shop/", views_shop.shop_home, name="shop-home"),
    path("shop/orders/", views_shop.orders, name="shop-orders"),
    path("shop/orders/<str:code>/", views_shop.order, name="shop-order"),
    path("shop/orders/<str:code>/cancel/", views_shop.order_cancel, name="shop-order-cancel"),
    # Clerks (phone): type a code, or open the URL the order's QR encodes, and verify.
    path("shop/verify/", views_shop.verify, name="shop-verify"),
    path("shop/verify/<str:redeem_code>/", views_shop.verify_code, name="shop-verify-code"),
    # Console: the ledger in scope, shops and their items, clerks and orders, statistics.
    path("console/points/", views_console.ledger, name="console-ledger"),
    path("console/shops/", views_console.shops, name="console-shops"),
    path("console/shops/<str:code>/", views_console.shop, name="console-shop"),
    path(
        "console/shops/<str:code>/<str:action>/",
        views_console.shop_action,
        name="console-shop-action",
    ),
    path(
        "console/volunteers/stats/",
        views_console.volunteer_stats,
        name="console-volunteer-stats",
    ),
    path(
        "console/volunteers/stats.xlsx",
        views_console.volunteer_stats_xlsx,
        name="console-volunteer-stats-xlsx",
    ),
]
