from django.conf import settings


def _demo_logins():
    from pingan.demo.logins import DEMO_LOGINS, DEMO_PASSWORD

    return {"password": DEMO_PASSWORD, "logins": DEMO_LOGINS}


def site(request):
    return {
        "DEMO_MODE": settings.DEMO_MODE,
        "DEMO_LOGINS": _demo_logins() if settings.DEMO_MODE else (),
        "MAP_TILE_URL": settings.MAP_TILE_URL,
        "MAP_TILE_ATTRIBUTION": settings.MAP_TILE_ATTRIBUTION,
        "MAP_TILE_CRS": settings.MAP_TILE_CRS,
        # The embedded server answers sockets on their own port (docs/deployment.md).
        "LIVE_SOCKET_PORT": settings.LIVE_SOCKET_PORT or "",
    }
