"""Seed the small world the browser test drives, through the services like tests/conftest.py.

Run as `python tests/e2e/seed.py` with DJANGO_SETTINGS_MODULE=pingan.settings, after migrate.
World: 示范市局 → 平安县局 → 城关所 → 东门警务室 with one grid, 东门社区 (GE1), a 0.02° square
centred on GRID_CENTER. officer1 is the grid's officer, on duty inside it with a fresh position;
citizen1 reports; commander watches the county board. Every password is `pingan-demo`.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings")

GRID_CENTER = (114.30, 26.30)  # (lng, lat)
HALF = 0.01
PASSWORD = "pingan-demo"


def main() -> None:
    import django

    django.setup()

    import shapely
    from django.db import transaction
    from django.utils import timezone

    from pingan.accounts.models import Role, User
    from pingan.incidents.models import Unit, UnitKind
    from pingan.incidents.services import create_unit
    from pingan.orgs import services as orgs
    from pingan.orgs.models import OrgKind

    def user(username, role, org=None, display_name=""):
        return User.objects.create_user(
            username=username,
            password=PASSWORD,
            role=role,
            org=org,
            display_name=display_name or username,
        )

    with transaction.atomic():
        city = orgs.create_org(code="360800", name="示范市公安局", kind=OrgKind.CITY_BUREAU)
        county = orgs.create_org(
            code="360827", name="平安县公安局", kind=OrgKind.COUNTY_BUREAU, parent=city
        )
        station = orgs.create_org(
            code="S-E", name="城关派出所", kind=OrgKind.STATION, parent=county
        )
        office = orgs.create_org(
            code="O-E1", name="东门警务室", kind=OrgKind.POLICE_OFFICE, parent=station
        )
        user("commander", Role.COMMANDER, county, "县局指挥中心")
        officer = user("officer1", Role.OFFICER, office, "李警官")
        user("citizen1", Role.CITIZEN, None, "王女士")
        lng, lat = GRID_CENTER
        orgs.save_grid(
            code="GE1",
            name="东门社区",
            kind="urban_community",
            org=office,
            geometry=shapely.box(lng - HALF, lat - HALF, lng + HALF, lat + HALF),
            officer=officer,
        )
        unit = create_unit(
            name=officer.display_name, kind=UnitKind.OFFICER, org=office, user=officer
        )
        Unit.objects.filter(pk=unit.pk).update(
            on_duty=True, lng=lng + 0.001, lat=lat + 0.001, position_at=timezone.now()
        )
    # Disputes: chief1 commands the station (the chief a red dispute alerts); worker1 is the
    # grid worker of GE1 who files disputes from the phone.
    with transaction.atomic():
        from pingan.orgs.models import Grid

        user("chief1", Role.COMMANDER, station, "城关所所长")
        worker = user("worker1", Role.GRID_WORKER, office, "张网格员")
        Grid.objects.get(code="GE1").grid_workers.add(worker)
    print("seeded: chief1 (station commander), worker1 (grid worker of GE1)")
    _seed_volunteers(user, station, office)
    print("seeded: commander, officer1, citizen1; grid GE1 around", GRID_CENTER)


def _seed_volunteers(user, station, office) -> None:
    """Volunteers: a team that takes anyone with its invite link (no approval step), a night
    patrol starting in half an hour at the grid centre (check-in is open an hour ahead), a love
    supermarket with clerk1 behind the counter. newbie1 is a resident who has not joined yet."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from pingan.points import services as points
    from pingan.volunteers import services as volunteers

    User = get_user_model()
    officer = User.objects.get(username="officer1")
    chief = User.objects.get(username="chief1")
    team = volunteers.create_team(
        chief, name="东门义警队", org=office, requires_approval=False, grid_codes=["GE1"]
    )
    now = timezone.now()
    lng, lat = GRID_CENTER
    volunteers.post_task(
        officer,
        kind="night_patrol",
        title="东门社区夜间巡逻",
        description="沿东门街巡逻，注意独居老人家门窗。",
        # Posted an hour ago and under way: the resident checks in and out inside its window
        # (work entirely outside it is not confirmed).
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=3),
        meeting_address="东门社区警务室门口",
        lng=lng,
        lat=lat,
        slots=3,
        team_codes=[team.code],
        now=now - timedelta(hours=1),
    )
    from pingan.accounts.models import Role

    user("newbie1", Role.CITIZEN, None, "赵大姐")
    clerk = user("clerk1", Role.CLERK, None, "刘店员")
    shop = points.create_shop(
        chief, name="东门爱心超市", kind="love_supermarket", org=office, address="东门街 8 号"
    )
    points.set_clerks(chief, shop, [clerk])
    points.save_item(chief, shop, name="大米 5 斤", points_price=10, stock=20, limit_per_person=2)
    print("seeded: team 东门义警队, a night patrol, 东门爱心超市 with clerk1; newbie1 to join")


if __name__ == "__main__":
    main()
