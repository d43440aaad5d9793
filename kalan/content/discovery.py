"""Finding other hubs on the school LAN by mDNS (zeroconf), and being found by them.

A hub announces the service `_kalan._tcp.local.` with its instance id and name
in the TXT record; `discover_peers` browses for a few seconds and records every
other hub that answered as a Peer row (discovered=True), whose library can then
be browsed and imported from like any peer's.

Discovery is OFF unless the environment says KALAN_DISCOVERY=1: mDNS sends to
the multicast group 224.0.0.251 on every interface, which a test run or a
server on a shared network must not do by surprise. Nothing here touches the
network when it is off, and zeroconf is only imported when it is on.
"""

import ipaddress
import os
import re
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone

from kalan.content.models import Peer
from kalan.content.peers import LIBRARY_FORMAT, LIBRARY_PATH
from kalan.core.errors import KalanError

if TYPE_CHECKING:
    from zeroconf import ServiceInfo, Zeroconf

SERVICE_TYPE = "_kalan._tcp.local."
DEFAULT_SECONDS = 3.0
# A DNS-SD instance name is one label of at most 63 bytes.
_LABEL_BYTES = 63
_UNSAFE = re.compile(r"[.\x00-\x1f\x7f]+")


class DiscoveryOff(KalanError):
    """Discovery was asked for while KALAN_DISCOVERY is not set."""


def enabled() -> bool:
    """Whether this instance may use mDNS (KALAN_DISCOVERY=1 in its environment)."""
    return os.environ.get("KALAN_DISCOVERY", "").strip().lower() in {"1", "true", "yes", "on"}


def _require_enabled() -> None:
    if not enabled():
        raise DiscoveryOff(
            "looking for hubs on the network is off; set KALAN_DISCOVERY=1 to turn it on"
        )


@dataclass(frozen=True)
class FoundHub:
    instance_id: uuid.UUID | None
    name: str
    url: str


# ---------------------------------------------------------------- the service record


def instance_label(name: str, instance_id: uuid.UUID) -> str:
    """The service's instance name: the hub's name, made unique by its id, within 63 bytes."""
    suffix = f" {instance_id.hex[:8]}"
    clean = _UNSAFE.sub(" ", name).strip() or "Kalan"
    encoded = clean.encode("utf-8")[: _LABEL_BYTES - len(suffix)]
    return encoded.decode("utf-8", errors="ignore").rstrip() + suffix


def service_info(
    *, instance_id: uuid.UUID, name: str, port: int, addresses: Sequence[str]
) -> "ServiceInfo":
    """The record this hub announces: where it listens, and who it is."""
    from zeroconf import ServiceInfo

    return ServiceInfo(
        SERVICE_TYPE,
        f"{instance_label(name, instance_id)}.{SERVICE_TYPE}",
        port=port,
        properties={
            "id": str(instance_id),
            "name": name[:200],
            "path": LIBRARY_PATH,
            "format": LIBRARY_FORMAT,
        },
        server=f"kalan-{instance_id.hex[:12]}.local.",
        parsed_addresses=list(addresses),
    )


def hub_from_info(info: "ServiceInfo") -> FoundHub | None:
    """The hub a service record describes, or None when it is not a usable Kalan hub."""
    properties = info.decoded_properties
    if properties.get("format") != LIBRARY_FORMAT or not info.port:
        return None
    host = _best_address(info.parsed_scoped_addresses())
    if host is None:
        return None
    try:
        instance_id: uuid.UUID | None = uuid.UUID(properties.get("id") or "")
    except ValueError:
        instance_id = None
    name = (properties.get("name") or "").strip()[:200] or host
    return FoundHub(instance_id=instance_id, name=name, url=f"http://{host}:{info.port}/")


def _best_address(addresses: Iterable[str]) -> str | None:
    """An IPv4 address if there is one (what people can type), else an IPv6 one in brackets."""
    candidates = []
    for text in addresses:
        address, _, scope = text.partition("%")
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            continue
        if parsed.is_loopback or parsed.is_unspecified or parsed.is_multicast:
            continue
        if parsed.version == 4:
            return address
        if not (parsed.is_link_local and scope):  # a link-local address needs its interface
            candidates.append(f"[{address}]")
    return candidates[0] if candidates else None


# ---------------------------------------------------------------- peers


def record_peers(found: Iterable[FoundHub], *, own_id: uuid.UUID | None = None) -> list[Peer]:
    """Record hubs just seen as Peer rows; a hub added by hand keeps its own name."""
    now = timezone.now()
    peers = []
    for hub in found:
        if own_id is not None and hub.instance_id == own_id:
            continue
        peer, created = Peer.objects.get_or_create(
            url=hub.url, defaults={"name": hub.name, "discovered": True, "last_seen_at": now}
        )
        if not created:
            peer.last_seen_at = now
            fields = ["last_seen_at"]
            if peer.discovered:
                peer.name = hub.name
                fields.append("name")
            peer.save(update_fields=fields)
        peers.append(peer)
    return peers


def browse(seconds: float = DEFAULT_SECONDS) -> list[FoundHub]:
    """The Kalan hubs that answer on the LAN within `seconds`. Raises DiscoveryOff."""
    _require_enabled()
    from zeroconf import ServiceBrowser, ServiceStateChange, Zeroconf

    names: set[str] = set()
    seen = threading.Lock()

    def on_change(
        zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is not ServiceStateChange.Removed:
            with seen:
                names.add(name)

    zeroconf = Zeroconf()
    try:
        browser = ServiceBrowser(zeroconf, SERVICE_TYPE, handlers=[on_change])
        time.sleep(seconds)
        browser.cancel()
        found = []
        for name in sorted(names):
            info = zeroconf.get_service_info(SERVICE_TYPE, name, timeout=1500)
            hub = hub_from_info(info) if info else None
            if hub:
                found.append(hub)
        return found
    finally:
        zeroconf.close()


def discover_peers(seconds: float = DEFAULT_SECONDS) -> list[Peer]:
    """Browse the LAN and record the other hubs found (not this one). Raises DiscoveryOff."""
    from kalan.core.stamps import instance_id

    return record_peers(browse(seconds), own_id=instance_id())


# ---------------------------------------------------------------- announcing


class Announcement:
    """This hub's record on the LAN, until `close()`."""

    def __init__(self, zeroconf: "Zeroconf", info: "ServiceInfo") -> None:
        self.zeroconf = zeroconf
        self.info = info

    def close(self) -> None:
        try:
            self.zeroconf.unregister_service(self.info)
        finally:
            self.zeroconf.close()


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback."""
    import ifaddr

    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ipaddress.ip_address(ip.ip).is_loopback:
                found.append(ip.ip)
    return found


def announce(
    *, port: int, instance_id: uuid.UUID, name: str, addresses: Sequence[str] | None = None
) -> Announcement | None:
    """Announce this hub on the LAN; None (and no network at all) when discovery is off.

    Needs no database: the caller passes the id and name (see `announce_this_hub`).
    """
    if not enabled():
        return None
    from zeroconf import Zeroconf

    info = service_info(
        instance_id=instance_id,
        name=name,
        port=port,
        addresses=addresses if addresses is not None else lan_addresses(),
    )
    zeroconf = Zeroconf()
    try:
        zeroconf.register_service(info, allow_name_change=True)
    except Exception:
        zeroconf.close()
        raise
    return Announcement(zeroconf, info)


def announce_this_hub(port: int) -> Announcement | None:
    """Announce this instance (its id and name from the database) serving on `port`."""
    if not enabled():
        return None
    from kalan.content.peers import this_hub

    hub = this_hub()
    return announce(port=port, instance_id=hub.id, name=hub.name)
