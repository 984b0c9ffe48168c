"""A position as people send it (any of the three datums, numbers or numeric text) → WGS-84."""

from pingan.core.errors import ServiceError

from .crs import UnknownCRS, to_wgs84, validate_lnglat


def normalise_location(lng, lat, crs: str) -> tuple[float, float]:
    """(lng, lat) in WGS-84 for storage; a clear error for what is not a position on Earth or
    names an unknown datum."""
    try:
        lng, lat = float(lng), float(lat)
        validate_lnglat(lng, lat)
    except (TypeError, ValueError) as exc:
        raise ServiceError("bad_location", f"坐标无效：{exc}") from exc
    try:
        return to_wgs84(lng, lat, crs)
    except UnknownCRS as exc:
        raise ServiceError("bad_crs", "坐标系只能是 wgs84、gcj02 或 bd09") from exc
