"""LAN discovery, without the LAN: the records built and read, and the switch that keeps it off.

Nothing here sends a packet: mDNS goes to 224.0.0.251 and tests contact only
127.0.0.1. So `announce` with discovery on, `browse` and `discover_peers` (two hubs
finding each other through multicast on a real LAN) are not run here; what they
build and read is.
"""

import uuid

import pytest
import zeroconf
from zeroconf import ServiceInfo

from kalan.content import discovery
from kalan.content.discovery import (
    SERVICE_TYPE,
    DiscoveryOff,
    FoundHub,
    hub_from_info,
    instance_label,
    record_peers,
    service_info,
)
from kalan.content.models import Peer

HUB = uuid.UUID("6f1d3c52-1b0e-4c47-9a53-0d6f4a1f2c11")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any attempt to open a zeroconf socket fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to use the network for mDNS")

    monkeypatch.setattr(zeroconf, "Zeroconf", refuse)
    monkeypatch.delenv("KALAN_DISCOVERY", raising=False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("", False), ("0", False), ("no", False), ("1", True), (" yes ", True)],
)
def test_discovery_is_on_only_when_the_environment_says_so(monkeypatch, value, expected):
    if value is not None:
        monkeypatch.setenv("KALAN_DISCOVERY", value)
    assert discovery.enabled() is expected


def test_when_off_nothing_is_announced_and_browsing_is_refused_in_one_line():
    assert discovery.announce(port=8000, instance_id=HUB, name="École de Gao") is None
    assert discovery.announce_this_hub(8000) is None
    with pytest.raises(DiscoveryOff) as caught:
        discovery.browse(0.1)
    assert str(caught.value) == (
        "looking for hubs on the network is off; set KALAN_DISCOVERY=1 to turn it on"
    )


def test_the_announced_record_says_where_and_who():
    info = service_info(instance_id=HUB, name="École de Gao", port=8123, addresses=["10.0.0.5"])
    assert info.type == SERVICE_TYPE
    assert info.name == f"École de Gao 6f1d3c52.{SERVICE_TYPE}"
    assert info.port == 8123
    assert info.server == "kalan-6f1d3c521b0e.local."
    assert info.parsed_addresses() == ["10.0.0.5"]
    assert info.decoded_properties == {
        "id": str(HUB),
        "name": "École de Gao",
        "path": "/content/library/",
        "format": "kalan-library/1",
    }


def test_the_instance_name_is_one_safe_label_of_at_most_63_bytes():
    long = instance_label("Лицей № 5 имени Рудаки. Душанбе\n" * 4, HUB)
    assert len(long.encode("utf-8")) <= 63
    assert long.endswith(" 6f1d3c52")
    assert "." not in long
    assert "\n" not in long
    assert instance_label("...", HUB) == "Kalan 6f1d3c52"


def test_a_record_is_read_back_into_the_hub_it_describes():
    info = service_info(instance_id=HUB, name="Gao", port=8000, addresses=["fe80::1", "10.0.0.5"])
    assert hub_from_info(info) == FoundHub(HUB, "Gao", "http://10.0.0.5:8000/")


def test_an_ipv6_only_hub_gets_a_bracketed_address():
    info = service_info(instance_id=HUB, name="Gao", port=8000, addresses=["2001:db8::7"])
    hub = hub_from_info(info)
    assert hub is not None
    assert hub.url == "http://[2001:db8::7]:8000/"


def _record(properties, *, port=8000, addresses=("10.0.0.5",)):
    return ServiceInfo(
        SERVICE_TYPE,
        f"Other.{SERVICE_TYPE}",
        port=port,
        properties=properties,
        server="other.local.",
        parsed_addresses=list(addresses),
    )


def test_records_that_are_not_usable_kalan_hubs_are_ignored():
    good = {"id": str(HUB), "name": "Gao", "format": "kalan-library/1"}
    assert hub_from_info(_record({**good, "format": "something-else/1"})) is None
    assert hub_from_info(_record({"id": str(HUB)})) is None
    assert hub_from_info(_record(good, addresses=("127.0.0.1",))) is None
    assert hub_from_info(_record(good, port=0)) is None
    odd = hub_from_info(_record({**good, "id": "not-a-uuid", "name": ""}))
    assert odd == FoundHub(None, "10.0.0.5", "http://10.0.0.5:8000/")


@pytest.mark.django_db
def test_hubs_seen_become_peers_and_a_hand_added_one_keeps_its_name():
    Peer.objects.create(url="http://10.0.0.6:8000/", name="Mopti (by hand)")
    me = uuid.uuid4()
    found = [
        FoundHub(uuid.uuid4(), "Gao", "http://10.0.0.5:8000/"),
        FoundHub(uuid.uuid4(), "Mopti", "http://10.0.0.6:8000/"),
        FoundHub(me, "This hub", "http://10.0.0.1:8000/"),
    ]
    peers = record_peers(found, own_id=me)
    assert [p.url for p in peers] == ["http://10.0.0.5:8000/", "http://10.0.0.6:8000/"]
    rows = {p.url: p for p in Peer.objects.all()}
    assert set(rows) == {"http://10.0.0.5:8000/", "http://10.0.0.6:8000/"}
    assert (rows["http://10.0.0.5:8000/"].name, rows["http://10.0.0.5:8000/"].discovered) == (
        "Gao",
        True,
    )
    by_hand = rows["http://10.0.0.6:8000/"]
    assert (by_hand.name, by_hand.discovered) == ("Mopti (by hand)", False)
    assert by_hand.last_seen_at is not None
    renamed = record_peers([FoundHub(None, "Gao II", "http://10.0.0.5:8000/")])
    assert renamed[0].name == "Gao II"
    assert Peer.objects.count() == 2
