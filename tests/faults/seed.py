"""Seed the fault test's county and print its residents' API tokens as JSON.

Run as `python tests/faults/seed.py <residents>` with the server's environment, after migrate.
One grid, 东门社区 (GF1), a 0.02° square centred on GRID_CENTER, with its officer on duty inside
it; `residents` citizens, each with a bearer token issued directly (no password login: the
test is about the database, not about logging in).
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings")

GRID_CENTER = (114.30, 26.30)  # (lng, lat)
HALF = 0.01


def main(residents: int) -> None:
    import django

    django.setup()

    import shapely
    from django.db import transaction
    from django.utils import timezone

    from pingan.accounts.models import Role, User
    from pingan.accounts.services import issue_token
    from pingan.incidents.models import Unit, UnitKind
    from pingan.incidents.services import create_unit
    from pingan.orgs import services as orgs
    from pingan.orgs.models import OrgKind

    with transaction.atomic():
        city = orgs.create_org(code="360800", name="示范市公安局", kind=OrgKind.CITY_BUREAU)
        county = orgs.create_org(
            code="360827", name="平安县公安局", kind=OrgKind.COUNTY_BUREAU, parent=city
        )
        station = orgs.create_org(
            code="S-F", name="城关派出所", kind=OrgKind.STATION, parent=county
        )
        office = orgs.create_org(
            code="O-F1", name="东门警务室", kind=OrgKind.POLICE_OFFICE, parent=station
        )
        officer = User.objects.create_user(
            username="officer1", password=None, role=Role.OFFICER, org=office
        )
        lng, lat = GRID_CENTER
        orgs.save_grid(
            code="GF1",
            name="东门社区",
            kind="urban_community",
            org=office,
            geometry=shapely.box(lng - HALF, lat - HALF, lng + HALF, lat + HALF),
            officer=officer,
        )
        unit = create_unit(name="李警官", kind=UnitKind.OFFICER, org=office, user=officer)
        Unit.objects.filter(pk=unit.pk).update(
            on_duty=True, lng=lng + 0.001, lat=lat + 0.001, position_at=timezone.now()
        )
        tokens = []
        for i in range(residents):
            citizen = User.objects.create_user(
                username=f"resident{i}", password=None, role=Role.CITIZEN
            )
            tokens.append(issue_token(citizen).token)
    print(json.dumps({"tokens": tokens}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
