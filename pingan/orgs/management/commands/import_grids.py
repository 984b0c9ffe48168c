from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from pingan.geo.geojson import GeoJSONError
from pingan.orgs import services
from pingan.orgs.models import OrgUnit


class Command(BaseCommand):
    help = "Import grid boundaries from a GeoJSON FeatureCollection (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--org", required=True, help="code of the org unit owning the grids")
        parser.add_argument("--crs", default="wgs84", choices=["wgs84", "gcj02", "bd09"])

    def handle(self, path, org, crs, **options):
        unit = OrgUnit.objects.filter(code=org).first()
        if unit is None:
            raise CommandError(f"单位 {org} 不存在")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取文件：{exc}") from exc
        try:
            result = services.import_grids(data, org=unit, crs=crs)
        except (GeoJSONError, services.OrgError) as exc:
            raise CommandError(f"导入失败，未做任何修改：{exc.message}") from exc
        self.stdout.write(f"imported: {result.created} created, {result.updated} updated")
