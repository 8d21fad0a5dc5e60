"""Which network addresses a URL from outside may reach: shared by the worker (inputs it fetches) and the
studio (outputs it downloads), so both refuse the same loopback, private, link-local (cloud metadata) and other
non-public addresses. Pure: the callers resolve names and call this on every address, at connection time."""
from __future__ import annotations

import ipaddress

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_V4_COMPAT = ipaddress.ip_network("::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: mapped, compatible, NAT64, 6to4 and Teredo forms.

    Such an address reaches the IPv4 host inside it (through the kernel, a NAT64 gateway or a relay), so it is
    judged by that host; `ipaddress` calls several of these ranges global by themselves."""
    if ip.ipv4_mapped:
        return [ip.ipv4_mapped]
    if ip.sixtofour:
        return [ip.sixtofour]
    if ip.teredo:
        return list(ip.teredo)
    low = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _NAT64 or (ip in _V4_COMPAT and int(ip) > 1):
        # ::1 and :: lie inside the old "IPv4-compatible" range but are loopback and unspecified themselves.
        return [low]
    if ip in _NAT64_LOCAL:
        # RFC 6052 /48 layout: 16 bits at 48..63, then (after the u octet) 16 bits at 72..87; also the /96 form.
        n = int(ip)
        v4_48 = ipaddress.IPv4Address((((n >> 64) & 0xFFFF) << 16) | ((n >> 40) & 0xFFFF))
        return [v4_48, low]
    return []


def written(host: str) -> str:
    """A host as it is written in a URL: an IPv6 literal in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def non_public(host: str, addr: str) -> str | None:
    """None when `addr` (an address `host` resolves to) is public; else a sentence saying why not.
    ValueError when `addr` is not an IP address."""
    ip = ipaddress.ip_address(addr.split("%", 1)[0])
    candidates: list = [ip]
    if ip.version == 6:
        inner = embedded_ipv4(ip)
        if inner:
            candidates = inner
    literal = host.strip("[]") == addr
    for one in candidates:
        if not one.is_global or one.is_multicast:
            if literal:                 # the URL names the address itself: say it as it was written
                carried = f" (it carries {one})" if one is not ip else ""
                return f"{written(host)} is a non-public address{carried}"
            shown = f"{ip} (carrying {one})" if one is not ip else str(ip)
            return f"{host} resolves to {shown}, a non-public address"
    return None
