"""Fixtures for the points and shop tests: a shop at station A's office with one item and a
clerk, plus a shop at station B with its own clerk (the "foreign shop")."""

from dataclasses import dataclass

import pytest

from .helpers import make_clerk, make_item, make_shop


@dataclass
class Shops:
    shop: object
    item: object
    clerk: object
    shop_b: object
    item_b: object
    clerk_b: object


@pytest.fixture
def shops(world):
    shop = make_shop(world)
    shop_b = make_shop(world, name="大坑合作超市", kind="partner_store", org=world.office_b)
    return Shops(
        shop=shop,
        item=make_item(shop, name="大米 5 斤", points_price=50, stock=10),
        clerk=make_clerk(shop, username="clerk_a"),
        shop_b=shop_b,
        item_b=make_item(shop_b, name="食用油 1 升", points_price=30, stock=5),
        clerk_b=make_clerk(shop_b, username="clerk_b", display_name="店员小李"),
    )
