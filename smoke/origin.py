"""Whether the ALB behind CloudFront is unreachable from the internet, judged from its DNS answers.

"Private" here means *not globally routable* (``ipaddress``'s ``is_global`` is False), not just
RFC 1918. An internal ALB gets addresses from its VPC's CIDRs, which are usually RFC 1918 ranges
(10/8, 172.16/12, 192.168/16) but may also be the shared range 100.64/10 (a common secondary VPC
CIDR) or IPv6 unique-local fc00::/7: none of those is reachable from the internet, and only
``is_global`` treats them all alike (``is_private`` is False for 100.64/10). The rule also admits
loopback and link-local addresses, which are no more reachable from outside; an ALB never resolves
to them, and tests can use ``localhost``. What must fail is any globally routable address: that
would mean an internet-facing load balancer which bypasses CloudFront and the WAF.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

Resolver = Callable[[str], list[str]]
"""Host name to IP address strings; injectable because tests cannot rely on real DNS."""


def resolve_with_system_dns(host: str) -> list[str]:
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def is_globally_routable(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        # ::ffff:0:0/96 counts as non-global as a whole; what matters is the IPv4 address inside.
        ip = ip.ipv4_mapped
    return ip.is_global
