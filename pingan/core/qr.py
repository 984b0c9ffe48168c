"""QR codes as inline SVG (segno): team invites, on-site task codes, redemption codes."""

import io

import segno
from django.conf import settings


def absolute_url(path: str, request=None) -> str:
    """A link a phone camera can open: from the request's host when there is one, else from
    settings.SITE_URL (e.g. "https://pingan.example.cn"); a bare path as a last resort."""
    if request is not None:
        return request.build_absolute_uri(path)
    base = (getattr(settings, "SITE_URL", "") or "").rstrip("/")
    return f"{base}{path}"


def svg(data: str, *, scale: int = 6, border: int = 2) -> str:
    """An <svg> element for `data`, without the XML declaration so it can be inlined."""
    code = segno.make(data, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=scale, border=border, xmldecl=False, svgns=True, svgclass="qr")
    return out.getvalue().decode("utf-8")
