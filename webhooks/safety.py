"""Where Attest may send a webhook: a guard against server-side request forgery (SSRF).

An admin types the URL, and the worker that calls it sits inside the organisation's network,
so a URL naming an internal service (a metadata endpoint, a database's HTTP port, the admin of
a router) would let whoever controls an endpoint make Attest knock on internal doors. Hence:

- only ``http`` and ``https``, with a host name and no user name or password in the URL;
- unless ``WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` is on, every address the host resolves to must be
  public: loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16,
  the cloud metadata address among them), multicast, reserved and unspecified addresses are
  refused. The check runs when the endpoint is saved and again before every attempt (DNS may
  change in between). Redirects are never followed, so a public receiver cannot bounce the
  request inward.

Off by default: an organisation whose receivers live on its own private network turns it on
deliberately (``WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true``). Tests turn it on, since their receiver
listens on 127.0.0.1. What this cannot stop: a host that resolves to a public address for the
check and a private one a moment later for the request (DNS rebinding); where that matters,
send webhooks through an egress proxy that enforces the same rule.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError


def _refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def url_check(url: str, *, resolve: bool = True) -> None:
    """Raise ValidationError (a plain sentence) when Attest must not send to ``url``.

    ``resolve``: also look the host up and check its addresses (skipped only where no lookup
    should happen, never before sending).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValidationError("Use an http:// or https:// address.", code="scheme")
    if not parts.hostname:
        raise ValidationError("The address has no host name.", code="host")
    if parts.username or parts.password:
        raise ValidationError(
            "Leave the user name and password out of the address; receivers check the "
            "signature instead.",
            code="credentials",
        )
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES or not resolve:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port)}
    except (OSError, ValueError) as error:
        raise ValidationError(
            f"The host {parts.hostname} could not be found.", code="unresolved"
        ) from error
    if any(_refused_address(address) for address in addresses):
        raise ValidationError(
            f"{parts.hostname} is a private or local address; Attest only sends webhooks to "
            "public addresses (an administrator can allow private ones with "
            "WEBHOOK_ALLOW_PRIVATE_ADDRESSES).",
            code="private",
        )
