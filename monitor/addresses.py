"""Which network addresses a fetch may connect to.

A feed names URLs (its item links, its redirects) that the monitor then fetches; without
a guard, a feed could make it read this machine's or this network's private services and
post what it found to Slack. Only public addresses are fetched, unless the operator named
the address: in MONITOR_FETCH_ALLOW, or as a feed URL in the rules written with an IP
address (`http://10.0.0.5:8080/feed.xml`; a host name is not enough, its owner controls
where it resolves). Pure: the connecting code in `monitor.fetch` asks
`AddressPolicy.refusal()` about each address it resolved.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.errors import ConfigError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_V4_BLOCKED: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "this host"),  # 0.0.0.0 reaches the local machine on Linux
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared (carrier-grade NAT)"),  # also Alibaba's metadata service
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local (cloud metadata)"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # with 255.255.255.255, broadcast
)
_V6_BLOCKED: tuple[tuple[str, str], ...] = (
    ("::/96", "unspecified, loopback or IPv4-compatible"),  # ::, ::1, ::127.0.0.1
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("2001::/32", "Teredo tunnel"),
    ("2001:db8::/32", "documentation"),
    ("fc00::/7", "unique local (private)"),  # also AWS's IPv6 metadata service
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
)
_V4 = tuple((ipaddress.IPv4Network(net), label) for net, label in _V4_BLOCKED)
_V6 = tuple((ipaddress.IPv6Network(net), label) for net, label in _V6_BLOCKED)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True, slots=True)
class _Allowed:
    network: IPNetwork
    port: int | None  # None: any port

    def admits(self, address: IPAddress, port: int) -> bool:
        return address in self.network and self.port in (None, port)


class AddressPolicy:
    """Public addresses, plus the operator's exceptions.

    `allow` is MONITOR_FETCH_ALLOW: comma-separated addresses or CIDR networks, each with
    an optional port (`127.0.0.1:8080`, `10.0.0.0/8`, `[::1]:8080`, `fd00::/8`).
    """

    def __init__(self, allow: str = "") -> None:
        self._allowed = tuple(_parse_entry(e.strip()) for e in allow.split(",") if e.strip())

    def refusal(
        self, address: str, port: int, *, named: tuple[IPAddress, int] | None = None
    ) -> str | None:
        """Why connecting to `address` (an IP as resolved) on `port` is refused, or None.

        `named`: the address and port of a feed URL from the rules (`named_address`).
        """
        ip = _unwrap(ipaddress.ip_address(address))
        if (ip, port) == named or any(entry.admits(ip, port) for entry in self._allowed):
            return None
        blocked: tuple[tuple[IPNetwork, str], ...] = (
            _V4 if isinstance(ip, ipaddress.IPv4Address) else _V6
        )
        return next((label for net, label in blocked if ip in net), None)


def named_address(url: str) -> tuple[IPAddress, int] | None:
    """The IP address and port `url` names literally, or None for a host name.

    `http://2130706433/` is a host name here: only the usual spelling names an address.
    """
    try:
        parts = urlsplit(url)
        ip = ipaddress.ip_address(parts.hostname or "")
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        return None
    return (_unwrap(ip), port) if port else None


def _unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), else `ip` itself."""
    if isinstance(ip, ipaddress.IPv4Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def _parse_entry(entry: str) -> _Allowed:
    network, port = entry, None
    if entry.startswith("["):  # [v6]:port or [v6/len]:port
        network, _, rest = entry[1:].partition("]")
        port = _port(entry, rest.removeprefix(":")) if rest else None
    elif entry.count(":") == 1:  # v4:port
        network, _, text = entry.partition(":")
        port = _port(entry, text)
    try:
        net = ipaddress.ip_network(network, strict=False)
    except ValueError:
        raise ConfigError(
            f"MONITOR_FETCH_ALLOW: {entry!r} is not an IP address or network; write "
            "addresses or CIDR networks with an optional port, comma-separated, e.g. "
            "'10.0.0.0/8,127.0.0.1:8080,[::1]:8080'"
        ) from None
    if isinstance(net, ipaddress.IPv6Network) and net.prefixlen == 128:
        net = ipaddress.ip_network(_unwrap(net.network_address))
    return _Allowed(net, port)


def _port(entry: str, text: str) -> int:
    if text.isdigit() and 0 < int(text) < 65536:
        return int(text)
    raise ConfigError(f"MONITOR_FETCH_ALLOW: {entry!r} has no valid port after ':' (1-65535)")
