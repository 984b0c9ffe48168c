"""Jurisdiction: the org tree, grids (网格/警格) and per-area response targets."""

from functools import cached_property

import shapely
from django.conf import settings
from django.db import models


class OrgKind(models.TextChoices):
    CITY_BUREAU = "city_bureau", "市公安局"
    COUNTY_BUREAU = "county_bureau", "县（区）公安局"
    STATION = "station", "派出所"
    POLICE_OFFICE = "police_office", "警务室"
    JOINT_STATION = "joint_station", "联勤警务站"


# Parent kinds allowed for each kind: the tree is 市局 → 分局 → 派出所 → 警务室/联勤警务站.
ALLOWED_PARENTS = {
    OrgKind.CITY_BUREAU: {None},
    OrgKind.COUNTY_BUREAU: {OrgKind.CITY_BUREAU},
    OrgKind.STATION: {OrgKind.COUNTY_BUREAU},
    OrgKind.POLICE_OFFICE: {OrgKind.STATION},
    OrgKind.JOINT_STATION: {OrgKind.STATION, OrgKind.COUNTY_BUREAU},
}


class OrgUnit(models.Model):
    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=16, choices=OrgKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path "/1/4/17/": a subtree is one indexed prefix query on any database.
    path = models.CharField(max_length=255, db_index=True, editable=False)
    division_code = models.CharField("区划代码", max_length=12, blank=True)

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["path"]

    def __str__(self):
        return self.name

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1

    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to and including this unit."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def subtree(self):
        return OrgUnit.objects.filter(path__startswith=self.path)


class GridKind(models.TextChoices):
    URBAN_COMMUNITY = "urban_community", "城市社区"
    RURAL_VILLAGE = "rural_village", "农村村庄"
    INDUSTRIAL_PARK = "industrial_park", "工业园区"
    SCENIC_AREA = "scenic_area", "景区"


class Grid(models.Model):
    code = models.CharField("网格编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=20, choices=GridKind.choices)
    org = models.ForeignKey(
        OrgUnit, verbose_name="责任单位", on_delete=models.PROTECT, related_name="grids"
    )
    division_code = models.CharField("区划代码", max_length=12, blank=True)
    # WGS-84 boundary as WKB; shapely reads it straight into the in-memory index.
    boundary = models.BinaryField("边界")
    centroid_lng = models.FloatField()
    centroid_lat = models.FloatField()
    area_km2 = models.FloatField(default=0)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="社区（驻村）民警",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="officer_grids",
    )
    auxiliaries = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="辅警", blank=True, related_name="auxiliary_grids"
    )
    grid_workers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="网格员", blank=True, related_name="worker_grids"
    )

    class Meta:
        verbose_name = "网格"
        verbose_name_plural = "网格"
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}（{self.code}）"

    @cached_property
    def geometry(self):
        return shapely.from_wkb(bytes(self.boundary))

    @property
    def is_rural(self) -> bool:
        return self.kind in {GridKind.RURAL_VILLAGE, GridKind.SCENIC_AREA}


class GridVersion(models.Model):
    """A single counter bumped whenever any grid's boundary changes.

    Each process keeps its point → grid index in memory and rebuilds it when this moves.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"grid version {self.version}"


class SlaPolicy(models.Model):
    """The 1-3-5 targets for an org unit and everything below it (nearest policy wins)."""

    org = models.OneToOneField(OrgUnit, on_delete=models.CASCADE, related_name="sla_policy")
    accept_seconds = models.PositiveIntegerField("接警响应（秒）", default=60)
    arrive_seconds = models.PositiveIntegerField("首警到场（秒）", default=180)
    reinforce_seconds = models.PositiveIntegerField("增援到场（秒）", default=300)
    # Rural areas may set longer targets for their village grids.
    rural_arrive_seconds = models.PositiveIntegerField("农村首警到场（秒）", null=True, blank=True)
    rural_reinforce_seconds = models.PositiveIntegerField(
        "农村增援到场（秒）", null=True, blank=True
    )

    class Meta:
        verbose_name = "1-3-5 快反目标"
        verbose_name_plural = "1-3-5 快反目标"

    def __str__(self):
        return f"{self.org}：{self.accept_seconds}/{self.arrive_seconds}/{self.reinforce_seconds}"
