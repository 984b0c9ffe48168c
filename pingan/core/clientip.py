"""The client's address, for the audit log and the rate limits: one rule everywhere.

`X-Forwarded-For` is written by whoever sends the request, so it is believed only when the peer
(`REMOTE_ADDR`) is one of the configured reverse proxies (`TRUSTED_PROXIES`: addresses or
CIDR networks; none by default). Then the header is read from the right, the hops our own
proxies appended, and the first address that is not a trusted proxy is the client: whatever a
client put in the header itself sits to the left of it and is never used.

`ClientAddressMiddleware` applies this once per request, at the edge: it rewrites
`REMOTE_ADDR` to the client and drops the header, so every later reader (the anonymous report
quota keys on `REMOTE_ADDR`, the audit log calls `client_ip`) sees the same address.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def trusted_networks() -> tuple[Network, ...]:
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))


def _address(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def is_trusted_proxy(value: str | None) -> bool:
    networks = trusted_networks()
    address = _address(value) if value and networks else None
    return address is not None and any(address in network for network in networks)


def client_ip(request) -> str | None:
    """The client's address: `REMOTE_ADDR`, or the rightmost untrusted `X-Forwarded-For` hop
    when the request came through a trusted proxy. None without a request or an address."""
    if request is None:
        return None
    remote = (request.META.get("REMOTE_ADDR") or "").strip()
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR") or ""
    if not forwarded or not is_trusted_proxy(remote):
        return remote or None
    client = remote
    for hop in reversed([h for h in forwarded.split(",") if h.strip()]):
        address = _address(hop)
        if address is None:
            break  # garbage: what lies left of it cannot be trusted either
        client = str(address)
        if not is_trusted_proxy(client):
            break
    return client or None


class ClientAddressMiddleware:
    """Resolve the client's address once (see the module docstring); first in the stack."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "HTTP_X_FORWARDED_FOR" in request.META:
            request.META["REMOTE_ADDR"] = client_ip(request) or ""
            # Resolved: later readers must not parse a client-supplied header again.
            request.META["PINGAN_FORWARDED_FOR"] = request.META.pop("HTTP_X_FORWARDED_FOR")
        return self.get_response(request)
