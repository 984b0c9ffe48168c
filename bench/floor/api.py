"""The one endpoint: pingan's report body (pingan/incidents/api.py `ReportIn`), one INSERT."""

from typing import Literal

from ninja import NinjaAPI, Schema
from pydantic import Field, field_validator

from .models import Report

CRS = Literal["wgs84", "gcj02", "bd09"]


# --- the same schemas as pingan/incidents/api.py ----------------------------------------------


class LocationIn(Schema):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    crs: CRS = "wgs84"


class ReportIn(Schema):
    category: str = Field(min_length=6, max_length=6, pattern=r"^\d{6}$")
    description: str = Field(min_length=1, max_length=2000)
    location: LocationIn
    address: str | None = Field(default=None, max_length=200)
    anonymous: bool = False
    source: Literal["citizen_app", "phone_transfer", "patrol", "volunteer", "sensor"] = (
        "citizen_app"
    )

    @field_validator("description")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("描述不能为空")
        return value


api = NinjaAPI(title="pingan floor", docs_url=None, openapi_url=None)


@api.post("/incidents", response={201: dict})
def report(request, payload: ReportIn):
    row = Report.objects.create(
        category=payload.category,
        description=payload.description,
        lat=payload.location.lat,
        lng=payload.location.lng,
        crs=payload.location.crs,
        address=payload.address,
        anonymous=payload.anonymous,
        source=payload.source,
    )
    # `reported_at` as pingan answers it, so the harness splits the latency the same way.
    return 201, {"id": row.pk, "code": f"F{row.pk:08d}", "reported_at": row.reported_at.isoformat()}
