"""Security headers on every response: the Content Security Policy and the Permissions-Policy.

Django's SecurityMiddleware already sends nosniff, Referrer-Policy (SECURE_REFERRER_POLICY),
Cross-Origin-Opener-Policy and, over HTTPS, HSTS; XFrameOptionsMiddleware sends
`X-Frame-Options: DENY` on pages. This middleware adds what Django 5.2 does not have:

- **Content-Security-Policy**: scripts only from our own origin (every page's behaviour lives in
  static files under pingan/static/; values reach them through data-attributes and
  `json_script`, which is `type="application/json"` and never executed), no plugins, no
  `<base>` elsewhere, no framing, forms posting only to us. Images from us, `data:` and `blob:`
  (Leaflet, ECharts, Swagger UI's icons) and the map tile server when one is configured
  (MAP_TILE_URL). Connections to us and to the live socket, which the embedded server answers on
  a port of its own (LIVE_SOCKET_PORT) of the same host.
  Styles keep `'unsafe-inline'`: the templates carry `style=` attributes, Leaflet and htmx set
  styles from script, and Swagger UI's React renders inline styles. A style cannot run script,
  so this leaves the policy's purpose (no injected script) intact.
- **Permissions-Policy**: position and camera for our own pages only (the report form and the
  unit's position), everything else a page could ask a phone for is refused.

The policy is the same for every page of a host; it is built once per Host header (a handful
in any deployment) and cached.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host

PERMISSIONS_POLICY = ", ".join(
    [
        "geolocation=(self)",
        "camera=(self)",
        "microphone=()",
        "payment=()",
        "usb=()",
        "serial=()",
        "bluetooth=()",
        "midi=()",
        "accelerometer=()",
        "gyroscope=()",
        "magnetometer=()",
        "display-capture=()",
    ]
)


def tile_source(url: str) -> str | None:
    """The CSP source of a tile URL template, or None when it is on our own origin.

    "https://t{s}.tianditu.gov.cn/vec_w/wmts?..." → "https://*.tianditu.gov.cn": a placeholder
    in the host name stands for sub-domains, which a CSP source can only say as a leading `*.`.
    """
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None  # a path on our own origin ('self')
    host = parts.netloc.rsplit("@", 1)[-1]
    labels = host.split(".")
    if "{" in labels[0]:
        labels[0] = "*"
    if any("{" in label for label in labels):
        return None  # a placeholder deeper in the name cannot be expressed: leave tiles out
    return f"{parts.scheme}://{'.'.join(labels)}"


def socket_sources(host: str) -> list[str]:
    """ws:/wss: sources for the live socket on `host` (the request's Host header)."""
    domain, _port = split_domain_port(host)
    if not domain:
        return []
    if ":" in domain and not domain.startswith("["):
        domain = f"[{domain}]"
    port = settings.LIVE_SOCKET_PORT
    where = f"{domain}:{port}" if port else host
    return [f"ws://{where}", f"wss://{where}"]


def content_security_policy(host: str = "") -> str:
    images = ["'self'", "data:", "blob:"]
    tiles = tile_source(settings.MAP_TILE_URL or "")
    if tiles:
        images.append(tiles)
    connect = ["'self'", *socket_sources(host)]
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": images,
        "font-src": ["'self'", "data:"],
        "connect-src": connect,
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class SecurityHeadersMiddleware:
    """Adds Content-Security-Policy and Permissions-Policy to every response that has none."""

    MAX_CACHED_HOSTS = 64

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self._policies: dict[tuple, str] = {}

    def policy_for(self, request) -> str:
        raw = request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME") or ""
        key = (raw, settings.MAP_TILE_URL, settings.LIVE_SOCKET_PORT)
        policy = self._policies.get(key)
        if policy is None:
            domain, _port = split_domain_port(raw)
            # Only a host we serve names the socket's origin; anything else gets 'self' alone.
            allowed = domain and validate_host(domain, settings.ALLOWED_HOSTS)
            policy = content_security_policy(raw if allowed else "")
            if len(self._policies) >= self.MAX_CACHED_HOSTS:
                self._policies.clear()
            self._policies[key] = policy
        return policy

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy_for(request)
        if "Permissions-Policy" not in response:
            response["Permissions-Policy"] = PERMISSIONS_POLICY
        return response
