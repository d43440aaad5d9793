"""Values inside statements and query parameters: agents, IRIs, UUIDs, language tags,
durations, timestamps and agent keys (kalan.lrs.validation and kalan.lrs.values)."""

import datetime
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalan.lrs.tests.test_validation import AGENT_IFI, LEARNER, ONE_IFI, TIMESTAMP_HINT, VERSIONS
from kalan.lrs.validation import (
    StatementInvalid,
    agent_key,
    is_uuid,
    parse_timestamp,
    validate_agent,
    validate_duration,
    validate_iri,
    validate_language_map,
)

# ---------------------------------------------------------------- query parameters


@pytest.mark.parametrize("version", VERSIONS)
def test_agent_parameter_accepts_an_agent_or_an_identified_group(version):
    validate_agent({"mbox": "mailto:a@example.com"}, version=version)
    validate_agent(
        {"objectType": "Group", "account": {"homePage": "http://x.org", "name": "t"}},
        version=version,
    )


@pytest.mark.parametrize(
    ("agent", "message"),
    [
        ("wrong", "agent: must be an Agent or Group object"),
        (
            {"objectType": "Group", "member": [LEARNER]},
            f"agent: an identified Group {ONE_IFI}; found none",
        ),
        ({"objectType": "Agent"}, f"agent: {AGENT_IFI}; found none"),
        (
            {"mbox": "mailto:a@example.com", "extra": 1},
            'agent["extra"]: is not an allowed property of an Agent object',
        ),
    ],
)
def test_agent_parameter_refusals(agent, message):
    with pytest.raises(StatementInvalid) as caught:
        validate_agent(agent, version="1.0.3")
    assert str(caught.value) == message


def test_iri_parameter():
    assert validate_iri("http://example.com/a", path="activityId") == "http://example.com/a"
    assert validate_iri("urn:uuid:6690e6c9-3ef0-4ed3-8b37-7f3964730bee", path="x").startswith(
        "urn:"
    )
    for bad in (
        "not.a.valid.iri.com/verb",
        "",
        "http://exa mple.com",
        "http://a.b/%zz",
        7,
        "1http://a",
    ):
        with pytest.raises(StatementInvalid, match=r"^verb: must be an absolute IRI$"):
            validate_iri(bad, path="verb")


def test_uuid_text_form():
    assert is_uuid("6690e6c9-3ef0-4ed3-8b37-7f3964730bee")
    assert is_uuid("6690E6C9-3EF0-4ED3-8B37-7F3964730BEE")
    assert not is_uuid("6690e6c93ef04ed38b377f3964730bee")
    assert not is_uuid("{6690e6c9-3ef0-4ed3-8b37-7f3964730bee}")
    assert not is_uuid("6690e6c9-3ef0-4ed3-8b37-7f3964730bee\n")
    assert not is_uuid(None)


@pytest.mark.parametrize(
    "tag",
    [
        "en",
        "en-US",
        "tlh",
        "zh-yue-HK",
        "sl-rozaj-biske",
        "de-Latn-DE-1996",
        "x-whatever",
        "en-GB-oed",
        "qaa-Qaaa-QM-x-southern",
        "EN-us",
    ],
)
def test_language_tags_accepted(tag):
    validate_language_map({tag: "text"}, path="display")


@pytest.mark.parametrize(
    "tag",
    [
        "",
        "a12345",
        "something",
        "en-",
        "en--US",
        "de-419-DE",
        "a-DE",
        "ar-a-aaa-b-bbb-a-ccc",
        "de-DE-1901-1901",
        "en US",
        "x-",
    ],
)
def test_language_tags_refused(tag):
    with pytest.raises(StatementInvalid) as caught:
        validate_language_map({tag: "text"}, path="display")
    assert (
        str(caught.value) == f"display[{json.dumps(tag)}]: key is not a valid RFC 5646 language tag"
    )


@pytest.mark.parametrize(
    "duration", ["P1Y", "P1M", "PT1M", "P1DT12H", "PT0S", "P0.5Y", "PT1,5S", "P1W"]
)
def test_durations_accepted(duration):
    validate_duration(duration, path="duration")


@pytest.mark.parametrize(
    "duration", ["P", "1H", "PT1H30", "-PT1H", "P1H", "PT1.S", "P1DT", "pt1h", "P1Y2W"]
)
def test_durations_refused(duration):
    with pytest.raises(StatementInvalid, match=r"^duration: "):
        validate_duration(duration, path="duration")


# ---------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "2013-05-18T05:32:34.804Z",
            datetime.datetime(2013, 5, 18, 5, 32, 34, 804000, datetime.UTC),
        ),
        (
            "2013-05-18T07:32:34.804+02:00",
            datetime.datetime(2013, 5, 18, 5, 32, 34, 804000, datetime.UTC),
        ),
        (
            "2013-05-18T00:02:34-0530",
            datetime.datetime(2013, 5, 18, 5, 32, 34, tzinfo=datetime.UTC),
        ),
        ("2013-05-18T05:32:34", datetime.datetime(2013, 5, 18, 5, 32, 34, tzinfo=datetime.UTC)),
        ("2013-05-18T05:32Z", datetime.datetime(2013, 5, 18, 5, 32, tzinfo=datetime.UTC)),
        ("20130518T053234.8Z", datetime.datetime(2013, 5, 18, 5, 32, 34, 800000, datetime.UTC)),
        (
            "2013-05-18t05:32:34.123456789z",
            datetime.datetime(2013, 5, 18, 5, 32, 34, 123456, datetime.UTC),
        ),
        ("2013-05-18T05:32:34+00", datetime.datetime(2013, 5, 18, 5, 32, 34, tzinfo=datetime.UTC)),
    ],
)
def test_parse_timestamp_returns_utc(text, expected):
    for version in VERSIONS:
        parsed = parse_timestamp(text, version=version, path="since")
        assert parsed == expected
        assert parsed.utcoffset() == datetime.timedelta(0)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2013-05-18", TIMESTAMP_HINT),
        ("2013-05-18T05:32:34.804+24:00", "has an invalid UTC offset"),
        ("2013-13-18T05:32:34Z", "is not a valid calendar date and time of day"),
        ("2013-05-18T24:00:00Z", "is not a valid calendar date and time of day"),
        ("2023-02-29T00:00:00Z", "is not a valid calendar date and time of day"),
        (
            "2013-05-18T05:32:34.804-00:00",
            "must not use the offset -00:00 (write Z or +00:00 for UTC)",
        ),
        (" 2013-05-18T05:32:34Z", TIMESTAMP_HINT),
    ],
)
def test_parse_timestamp_refusals(text, reason):
    with pytest.raises(StatementInvalid) as caught:
        parse_timestamp(text, version="2.0.0", path="until")
    assert str(caught.value) == f"until: {reason}"


def test_rfc_3339_space_depends_on_the_version():
    text = "2008-09-15 15:53:00.601+00:00"
    assert parse_timestamp(text, version="2.0.0", path="since").year == 2008
    with pytest.raises(StatementInvalid, match='must separate date and time with "T"'):
        parse_timestamp(text, version="1.0.3", path="since")


OFFSETS = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: datetime.timezone(datetime.timedelta(minutes=minutes))
)


@given(
    moment=st.datetimes(
        min_value=datetime.datetime(1, 1, 2, tzinfo=datetime.UTC).replace(tzinfo=None),
        max_value=datetime.datetime(9999, 12, 30, tzinfo=datetime.UTC).replace(tzinfo=None),
        timezones=OFFSETS,
    ),
    version=st.sampled_from(VERSIONS),
    timespec=st.sampled_from(["seconds", "milliseconds", "microseconds"]),
)
def test_any_timestamp_written_by_isoformat_round_trips(moment, version, timespec):
    text = moment.isoformat(timespec=timespec)
    kept = {"seconds": 1_000_000, "milliseconds": 1000, "microseconds": 1}[timespec]
    parsed = parse_timestamp(text, version=version, path="timestamp")
    assert parsed == moment.replace(microsecond=moment.microsecond - moment.microsecond % kept)
    assert parsed.tzinfo is datetime.UTC


# ---------------------------------------------------------------- agent keys


@pytest.mark.parametrize(
    ("agent", "key"),
    [
        ({"mbox": "mailto:a@b.c"}, "mbox:mailto:a@b.c"),
        (
            {"objectType": "Agent", "name": "A", "mbox": "mailto:Ann@Example.COM"},
            "mbox:mailto:Ann@example.com",
        ),
        (
            {"mbox_sha1sum": "EBD31E95054C018B10727CCFFD2EF2EC3A016EE9"},
            "mbox_sha1sum:ebd31e95054c018b10727ccffd2ef2ec3a016ee9",
        ),
        ({"openid": "http://toby.openid.example.org/"}, "openid:http://toby.openid.example.org/"),
        (
            {"account": {"name": "13936749", "homePage": "http://www.example.com"}},
            "account:http://www.example.com 13936749",
        ),
        (
            {"objectType": "Group", "mbox": "mailto:team@example.com", "member": [LEARNER]},
            "mbox:mailto:team@example.com",
        ),
    ],
)
def test_agent_key(agent, key):
    assert agent_key(agent) == key


@pytest.mark.parametrize(
    ("agent", "message"),
    [
        ({"name": "nobody"}, f"agent: an Agent or identified Group {ONE_IFI}; found none"),
        (
            {"mbox": "mailto:a@b.c", "openid": "http://o.org"},
            f"agent: an Agent or identified Group {ONE_IFI}; found 2 (mbox, openid)",
        ),
        (
            {"account": {"homePage": "http://x.org"}},
            "agent.account: must have a homePage and a name, both strings",
        ),
        ({"mbox": 7}, "agent.mbox: must be a string"),
    ],
)
def test_agent_key_needs_one_identifier(agent, message):
    with pytest.raises(StatementInvalid) as caught:
        agent_key(agent)
    assert str(caught.value) == message


IDENTIFIERS = st.one_of(
    st.builds(
        lambda user, host: {"mbox": f"mailto:{user}@{host}"},
        st.from_regex(r"[a-z0-9.]{1,10}", fullmatch=True),
        st.from_regex(r"[a-zA-Z]{1,8}\.[a-zA-Z]{2,3}", fullmatch=True),
    ),
    st.builds(
        lambda digits: {"mbox_sha1sum": digits}, st.from_regex(r"[0-9a-fA-F]{40}", fullmatch=True)
    ),
    st.builds(
        lambda path: {"openid": f"http://openid.example.org/{path}"},
        st.from_regex(r"[a-z0-9]{0,12}", fullmatch=True),
    ),
    st.builds(
        lambda name: {"account": {"homePage": "http://example.com", "name": name}},
        st.text(max_size=12),
    ),
)


@given(identifier=IDENTIFIERS, name=st.text(max_size=8), data=st.data())
def test_agent_key_ignores_key_order_names_and_identifier_case(identifier, name, data):
    agent = {"objectType": "Agent", "name": name, **identifier}
    shuffled = dict(data.draw(st.permutations(list(agent.items()))))
    if "account" in shuffled:
        shuffled["account"] = dict(reversed(list(shuffled["account"].items())))
    assert agent_key(shuffled) == agent_key(agent)
    if "mbox_sha1sum" in agent:
        upper = {**agent, "mbox_sha1sum": agent["mbox_sha1sum"].upper()}
        assert agent_key(upper) == agent_key(agent)
    if "mbox" in agent:
        local, _, host = agent["mbox"].partition("@")
        assert agent_key({**agent, "mbox": f"{local}@{host.upper()}"}) == agent_key(agent)
