"""The xAPI statement validator (kalan.lrs.validation), without Django or a database.

The examples of the xAPI 1.0.3 specification (Appendices A, B and C) are read from the shared
corpus: each must be accepted under xAPI 1.0.3 and 2.0, and the refusals are made from them by
changing one thing. Those tests are skipped where the corpus is absent; the rest run anywhere.
"""

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalan.lrs.validation import (
    StatementInvalid,
    Version,
    normalize_statement,
    validate_statement,
    validate_statements,
)

EXAMPLES_DIR = Path("/work/shared/corpus/xapi/spec-1.0.3-examples")
VERSIONS: tuple[Version, ...] = ("1.0.3", "2.0.0")
LEARNER = {"objectType": "Agent", "mbox": "mailto:learner@example.com"}
VERB = {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en-US": "experienced"}}
ATTACHMENT = {
    "usageType": "http://example.com/attachment-usage/test",
    "display": {"en-US": "A test attachment"},
    "description": {"en-US": "A test attachment (description)"},
    "contentType": "text/plain; charset=ascii",
    "length": 27,
    "sha2": "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a",
    "fileUrl": "http://over.there.com/file.txt",
}
CONTEXT_AGENT = {
    "objectType": "contextAgent",
    "agent": {"objectType": "Agent", "mbox": "mailto:player-1@example.com"},
    "relevantTypes": ["https://example.com/activity-types/player"],
}
CONTEXT_GROUP = {
    "objectType": "contextGroup",
    "group": {"objectType": "Group", "mbox": "mailto:team-1@example.com"},
    "relevantTypes": ["https://example.com/activity-types/team"],
}
DELETE = object()


def example_names() -> list[Any]:
    if not EXAMPLES_DIR.is_dir():
        reason = f"the xAPI example corpus is absent ({EXAMPLES_DIR})"
        return [pytest.param("absent", marks=pytest.mark.skip(reason=reason))]
    return sorted(path.stem.split("-")[0] for path in EXAMPLES_DIR.glob("*.json"))


def load_example(name: str) -> Any:
    """The example file whose name starts with `name` ("A3", "B4", "C02"), as parsed JSON."""
    if not EXAMPLES_DIR.is_dir():
        pytest.skip(f"the xAPI example corpus is absent ({EXAMPLES_DIR})")
    (path,) = EXAMPLES_DIR.glob(f"{name}-*.json")
    return json.loads(path.read_text(encoding="utf-8"))


def example_statement(name: str) -> dict[str, Any]:
    """An example as a whole statement: A as is, B as the object, C as the object's definition."""
    example: dict[str, Any] = load_example(name)
    if name.startswith("A"):
        return example
    if name.startswith("B"):
        return {"actor": LEARNER, "verb": VERB, "object": example}
    activity = {"objectType": "Activity", "id": f"http://example.com/activities/{name}"}
    return {"actor": LEARNER, "verb": VERB, "object": {**activity, **example}}


def path_steps(path: str | tuple[Any, ...]) -> list[Any]:
    if isinstance(path, tuple):
        return list(path)
    return [
        int(step[1:-1]) if step[0] == "[" else step for step in re.findall(r"\[\d+\]|[^.[]+", path)
    ]


def changed(statement: dict[str, Any], *changes: tuple[Any, Any]) -> dict[str, Any]:
    """A deep copy of `statement` with each (path, value) set, or removed for DELETE."""
    result = copy.deepcopy(statement)
    for path, value in changes:
        *parents, last = path_steps(path)
        holder: Any = result
        for step in parents:
            holder = holder[step]
        if value is DELETE:
            del holder[last]
        else:
            holder[last] = copy.deepcopy(value)
    return result


def refusal(statement: Any, version: Version) -> str:
    with pytest.raises(StatementInvalid) as caught:
        validate_statement(statement, version=version)
    return str(caught.value)


# ---------------------------------------------------------------- the examples are accepted


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", example_names())
def test_specification_examples_are_valid(name, version):
    validate_statement(example_statement(name), version=version)


# ---------------------------------------------------------------- refusals, one rule each

SUBSTATEMENT_REF = ("object", "object")
A3_MEMBER = "actor.member"
DEFINITION = "object.definition"
TIMESTAMP_HINT = "must be an ISO 8601 timestamp such as 2024-05-01T12:30:00.000Z"
DURATION_HINT = "must be an ISO 8601 duration such as PT1H30M or P3DT4.5S"
IRL = "must be an absolute IRL (a resolvable IRI such as https://...)"
UUID = "must be a UUID (8-4-4-4-12 hexadecimal digits)"
OBJECT_KINDS = 'must be "Activity", "Agent", "Group", "StatementRef" or "SubStatement"'
INTERACTION_TYPES = (
    'must be one of "true-false", "choice", "fill-in", "long-fill-in", "matching", '
    '"performance", "sequencing", "likert", "numeric", "other"'
)
ONE_IFI = "must have exactly one inverse functional identifier"
AGENT_IFI = f"an Agent (mbox, mbox_sha1sum, openid or account) {ONE_IFI}"
ONLY_2_0 = "is not allowed in xAPI 1.0.3 (it was added in xAPI 2.0)"

# (example, changes, message), each refused under both versions.
REFUSALS: dict[str, tuple[str, list[tuple[Any, Any]], str]] = {
    # statement
    "actor missing": ("A1", [("actor", DELETE)], "statement.actor: is required"),
    "verb missing": ("A1", [("verb", DELETE)], "statement.verb: is required"),
    "object missing": ("A1", [("object", DELETE)], "statement.object: is required"),
    "unknown property": (
        "A1",
        [("foo", 1)],
        'statement["foo"]: is not an allowed property of a Statement object',
    ),
    "property case": (
        "A1",
        [("Actor", LEARNER)],
        'statement["Actor"]: is not allowed; names are case-sensitive ("actor")',
    ),
    "id not a UUID": (
        "A1",
        [("id", "AA97B177-9383-4934-8543-0F91A7A028368")],
        f"statement.id: {UUID}",
    ),
    "id with a non-hex letter": (
        "A1",
        [("id", "MA97B177-9383-4934-8543-0F91A7A02836")],
        f"statement.id: {UUID}",
    ),
    "id a number": ("A1", [("id", 12345)], f"statement.id: {UUID}"),
    "null value": ("A1", [("actor.name", None)], "statement.actor.name: must not be null"),
    # agents and groups
    "actor objectType": (
        "A1",
        [("actor.objectType", "agent")],
        'statement.actor.objectType: must be "Agent" or "Group"',
    ),
    "actor not an object": (
        "A1",
        [("actor", "someone")],
        "statement.actor: must be an Agent or Group object",
    ),
    "agent without identifier": (
        "A1",
        [("actor.mbox", DELETE)],
        f"statement.actor: {AGENT_IFI}; found none",
    ),
    "agent with two identifiers": (
        "A1",
        [("actor.openid", "http://openid.example.org/1")],
        f"statement.actor: {AGENT_IFI}; found 2 (mbox, openid)",
    ),
    "mbox not mailto": (
        "A1",
        [("actor.mbox", "http://should.fail.com")],
        'statement.actor.mbox: must be a "mailto:" IRI',
    ),
    "mbox without address": (
        "A1",
        [("actor.mbox", "mailto:should.fail.com")],
        'statement.actor.mbox: must be a "mailto:" IRI of one e-mail address (mailto:name@host)',
    ),
    "agent name a number": ("A1", [("actor.name", 123)], "statement.actor.name: must be a string"),
    "agent with member": (
        "A1",
        [("actor.member", [])],
        'statement.actor["member"]: is not an allowed property of an Agent object',
    ),
    "mbox_sha1sum not hex": (
        "A3",
        [(f"{A3_MEMBER}[2].mbox_sha1sum", "not-a-hash")],
        "statement.actor.member[2].mbox_sha1sum: must be the 40 hexadecimal digits of a SHA-1 hash",
    ),
    "openid not a URI": (
        "A3",
        [(f"{A3_MEMBER}[1].openid", "ab=c://should.fail.com")],
        "statement.actor.member[1].openid: must be an absolute URI",
    ),
    "account homePage without scheme": (
        "A3",
        [(f"{A3_MEMBER}[0].account.homePage", "homePage.com/testUser")],
        f"statement.actor.member[0].account.homePage: {IRL}",
    ),
    "account name not a string": (
        "A3",
        [(f"{A3_MEMBER}[0].account.name", {"key": "value"})],
        "statement.actor.member[0].account.name: must be a string",
    ),
    "account without homePage": (
        "A3",
        [(f"{A3_MEMBER}[0].account.homePage", DELETE)],
        "statement.actor.member[0].account.homePage: is required",
    ),
    "anonymous group without member": (
        "A3",
        [("actor.mbox", DELETE), ("actor.member", DELETE)],
        "statement.actor.member: is required in an anonymous Group (a Group with no identifier)",
    ),
    "anonymous group with no members": (
        "A3",
        [("actor.mbox", DELETE), ("actor.member", [])],
        "statement.actor.member: must list at least one Agent in an anonymous Group",
    ),
    "group with two identifiers": (
        "A3",
        [("actor.openid", "http://openid.example.org/team")],
        f"statement.actor: an identified Group {ONE_IFI}; found 2 (mbox, openid)",
    ),
    "group within a group": (
        "A3",
        [(f"{A3_MEMBER}[0].objectType", "Group")],
        'statement.actor.member[0].objectType: must be "Agent": the members of a Group are Agents',
    ),
    "member not an array": (
        "A3",
        [("actor.member", LEARNER)],
        "statement.actor.member: must be an array of Agent objects",
    ),
    "member without identifier": (
        "B3",
        [("object.member[1].openid", DELETE)],
        f"statement.object.member[1]: {AGENT_IFI}; found none",
    ),
    # verb
    "verb id missing": ("A1", [("verb.id", DELETE)], "statement.verb.id: is required"),
    "verb id without scheme": (
        "A1",
        [("verb.id", "example.com/xapi/verbs#sent")],
        "statement.verb.id: must be an absolute IRI",
    ),
    "verb id with a bad scheme": (
        "A2",
        [("verb.id", "ab=c://should.fail.com")],
        "statement.verb.id: must be an absolute IRI",
    ),
    "verb id with a space": (
        "A2",
        [("verb.id", "http://example.com/a verb")],
        "statement.verb.id: must be an absolute IRI",
    ),
    "display a string": (
        "A1",
        [("verb.display", "a12345 attended")],
        "statement.verb.display: must be a language map "
        "(an object from RFC 5646 language tags to strings)",
    ),
    "display key not a language tag": (
        "A1",
        [("verb.display", {"something": "sent"})],
        'statement.verb.display["something"]: key is not a valid RFC 5646 language tag',
    ),
    "display key with a reserved four-letter language": (
        "A1",
        [("verb.display", {"test": "sent"})],
        'statement.verb.display["test"]: key is not a valid RFC 5646 language tag',
    ),
    "display key with a repeated extension": (
        "A1",
        [("verb.display", {"zh-z-aaa-z-bbb-c-ccc": "sent"})],
        'statement.verb.display["zh-z-aaa-z-bbb-c-ccc"]: key is not a valid RFC 5646 language tag',
    ),
    "display empty": (
        "A1",
        [("verb.display", {})],
        "statement.verb.display: must have at least one entry",
    ),
    "display value null": (
        "A1",
        [("verb.display.en-US", None)],
        'statement.verb.display["en-US"]: must be a string',
    ),
    # activities
    "object objectType in lower case": (
        "B1",
        [("object.objectType", "activity")],
        f"statement.object.objectType: {OBJECT_KINDS}",
    ),
    "activity id missing": ("A1", [("object.id", DELETE)], "statement.object.id: is required"),
    "activity id not an IRI": (
        "A1",
        [("object.id", "ab=c://should.fail.com")],
        "statement.object.id: must be an absolute IRI",
    ),
    "definition not an object": (
        "A1",
        [(DEFINITION, "should error")],
        "statement.object.definition: must be an Activity Definition object",
    ),
    "definition name with a bad tag": (
        "A3",
        [(f"{DEFINITION}.name.en-something-AU", "meeting")],
        'statement.object.definition.name["en-something-AU"]: '
        "key is not a valid RFC 5646 language tag",
    ),
    "definition description empty": (
        "B1",
        [(f"{DEFINITION}.description", {})],
        "statement.object.definition.description: must have at least one entry",
    ),
    "definition type not an IRI": (
        "B1",
        [(f"{DEFINITION}.type", "should error")],
        "statement.object.definition.type: must be an absolute IRI",
    ),
    "definition moreInfo not an IRL": (
        "A3",
        [(f"{DEFINITION}.moreInfo", "virtualmeeting.example.com/345256")],
        f"statement.object.definition.moreInfo: {IRL}",
    ),
    "extension key not an IRI": (
        "A3",
        [(("object", "definition", "extensions", "should fail"), True)],
        'statement.object.definition.extensions["should fail"]: '
        "extension keys must be absolute IRIs",
    ),
    "extensions not an object": (
        "A3",
        [(f"{DEFINITION}.extensions", "should error")],
        "statement.object.definition.extensions: must be an object whose keys are IRIs",
    ),
    "agent object without objectType": (
        "B2",
        [("object.objectType", DELETE)],
        "statement.object.objectType: is required when the object is an Agent or a Group",
    ),
    "group object without objectType": (
        "B3",
        [("object.objectType", DELETE)],
        "statement.object.objectType: is required when the object is an Agent or a Group",
    ),
    # interaction activities
    "interactionType in the wrong case": (
        "C02",
        [(f"{DEFINITION}.interactionType", "choiCe")],
        f"statement.object.definition.interactionType: {INTERACTION_TYPES}",
    ),
    "interactionType an IRI": (
        "C03",
        [(f"{DEFINITION}.interactionType", "ab=c://should.fail.com")],
        f"statement.object.definition.interactionType: {INTERACTION_TYPES}",
    ),
    "correctResponsesPattern without interactionType": (
        "C01",
        [(f"{DEFINITION}.interactionType", DELETE)],
        'statement.object.definition.correctResponsesPattern: requires "interactionType" '
        "in the same definition",
    ),
    "choices without interactionType": (
        "C02",
        [
            (f"{DEFINITION}.interactionType", DELETE),
            (f"{DEFINITION}.correctResponsesPattern", DELETE),
        ],
        'statement.object.definition.choices: requires "interactionType" in the same definition',
    ),
    "scale in a matching interaction": (
        "C06",
        [(f"{DEFINITION}.scale", [{"id": "valid"}])],
        'statement.object.definition.scale: is not allowed when interactionType is "matching"',
    ),
    "choices in a true-false interaction": (
        "C01",
        [(f"{DEFINITION}.choices", [{"id": "true"}])],
        'statement.object.definition.choices: is not allowed when interactionType is "true-false"',
    ),
    "correctResponsesPattern not an array": (
        "C03",
        [(f"{DEFINITION}.correctResponsesPattern", "Bob's your uncle")],
        "statement.object.definition.correctResponsesPattern: must be an array of strings",
    ),
    "correct response not a string": (
        "C09",
        [(f"{DEFINITION}.correctResponsesPattern[0]", 4)],
        "statement.object.definition.correctResponsesPattern[0]: must be a string",
    ),
    "component without id": (
        "C02",
        [(f"{DEFINITION}.choices[1].id", DELETE)],
        "statement.object.definition.choices[1].id: is required",
    ),
    "component id not a string": (
        "C08",
        [(f"{DEFINITION}.choices[0].id", {"test": "value"})],
        "statement.object.definition.choices[0].id: must be a string",
    ),
    "component ids repeated": (
        "C05",
        [(f"{DEFINITION}.scale[1].id", "likert_0")],
        "statement.object.definition.scale[1].id: "
        'repeats the id "likert_0" of an earlier component',
    ),
    "component description with a bad tag": (
        "C06",
        [(f"{DEFINITION}.source[0].description.something", "Ben")],
        'statement.object.definition.source[0].description["something"]: '
        "key is not a valid RFC 5646 language tag",
    ),
    "component with an unknown property": (
        "C07",
        [(f"{DEFINITION}.steps[0].name", {"en-US": "pong"})],
        'statement.object.definition.steps[0]["name"]: '
        "is not an allowed property of an interaction component",
    ),
    "components not an array": (
        "C08",
        [(f"{DEFINITION}.choices", {"id": "valid"})],
        "statement.object.definition.choices: must be an array of interaction components",
    ),
    # statement references and sub-statements
    "StatementRef id not a UUID": (
        "B4",
        [((*SUBSTATEMENT_REF, "id"), "should fail")],
        f"statement.object.object.id: {UUID}",
    ),
    "StatementRef without id": (
        "B4",
        [((*SUBSTATEMENT_REF, "id"), DELETE)],
        "statement.object.object.id: is required",
    ),
    "StatementRef objectType in lower case": (
        "B4",
        [((*SUBSTATEMENT_REF, "objectType"), "statementref")],
        f"statement.object.object.objectType: {OBJECT_KINDS}",
    ),
    "SubStatement objectType in lower case": (
        "B4",
        [("object.objectType", "substatement")],
        f"statement.object.objectType: {OBJECT_KINDS}",
    ),
    "SubStatement with id": (
        "B4",
        [("object.id", "fd41c918-b88b-4b20-a0a5-a4c32391aaa0")],
        "statement.object.id: is not allowed in a SubStatement",
    ),
    "SubStatement with stored": (
        "B4",
        [("object.stored", "2013-05-18T05:32:34.804Z")],
        "statement.object.stored: is not allowed in a SubStatement",
    ),
    "SubStatement with version": (
        "B4",
        [("object.version", "1.0.0")],
        "statement.object.version: is not allowed in a SubStatement",
    ),
    "SubStatement with authority": (
        "B4",
        [("object.authority", LEARNER)],
        "statement.object.authority: is not allowed in a SubStatement",
    ),
    "SubStatement without actor": (
        "B4",
        [("object.actor", DELETE)],
        "statement.object.actor: is required",
    ),
    "SubStatement in a SubStatement": (
        "B4",
        [
            (
                SUBSTATEMENT_REF,
                {
                    "objectType": "SubStatement",
                    "actor": LEARNER,
                    "verb": VERB,
                    "object": {"id": "http://example.com/a"},
                },
            )
        ],
        "statement.object.object.objectType: a SubStatement cannot contain another SubStatement",
    ),
    "SubStatement with a bad timestamp": (
        "B4",
        [("object.timestamp", "01/011/2015")],
        f"statement.object.timestamp: {TIMESTAMP_HINT}",
    ),
    # result
    "scaled above 1": (
        "A2",
        [("result.score.scaled", 1.01)],
        "statement.result.score.scaled: must be between -1 and 1",
    ),
    "scaled below -1": (
        "A2",
        [("result.score.scaled", -1.00001)],
        "statement.result.score.scaled: must be between -1 and 1",
    ),
    "raw above max": (
        "A2",
        [("result.score", {"raw": 0.6767676, "min": 0, "max": 0.6567676})],
        "statement.result.score.raw: must not be greater than max",
    ),
    "raw below min": (
        "A2",
        [("result.score", {"raw": 0.6767676, "min": 1.4067676, "max": 100})],
        "statement.result.score.raw: must not be less than min",
    ),
    "min above max": (
        "A2",
        [("result.score", {"min": 0.6767676, "max": 0.6767355})],
        "statement.result.score.min: must be less than max",
    ),
    "max a string of digits": (
        "A2",
        [("result.score.max", "100")],
        "statement.result.score.max: must be a number",
    ),
    "score a number": (
        "A2",
        [("result.score", 12345)],
        "statement.result.score: must be a Score object",
    ),
    "success a string": (
        "A2",
        [("result.success", "true")],
        "statement.result.success: must be true or false",
    ),
    "completion a string": (
        "A2",
        [("result.completion", "false")],
        "statement.result.completion: must be true or false",
    ),
    "response a number": (
        "A3",
        [("result.response", 12345)],
        "statement.result.response: must be a string",
    ),
    "duration with a bad designator": (
        "A2",
        [("result.duration", "PA1H0M0S")],
        f"statement.result.duration: {DURATION_HINT}",
    ),
    "duration mixing weeks and days": (
        "A2",
        [("result.duration", "P4W1D")],
        f"statement.result.duration: {DURATION_HINT}",
    ),
    "duration without numbers": (
        "A2",
        [("result.duration", "PT")],
        "statement.result.duration: "
        "must be an ISO 8601 duration with a number after P (and after T)",
    ),
    "duration with a fraction before its end": (
        "A2",
        [("result.duration", "PT1.5H30M")],
        "statement.result.duration: may have a decimal fraction in its smallest unit only",
    ),
    "result extension key not an IRI": (
        "A3",
        [(("result", "extensions", "example.com/extension/wrong"), 1234)],
        'statement.result.extensions["example.com/extension/wrong"]: '
        "extension keys must be absolute IRIs",
    ),
    # context
    "registration not a UUID": (
        "A3",
        [("context.registration", "should fail")],
        f"statement.context.registration: {UUID}",
    ),
    "instructor a string": (
        "A3",
        [("context.instructor", "should fail")],
        "statement.context.instructor: must be an Agent or Group object",
    ),
    "instructor without identifier": (
        "A3",
        [("context.instructor.account", DELETE)],
        f"statement.context.instructor: {AGENT_IFI}; found none",
    ),
    "team an Agent": (
        "A3",
        [("context.team.objectType", "Agent")],
        'statement.context.team: must be a Group object (with "objectType": "Group")',
    ),
    "contextActivities a string": (
        "A3",
        [("context.contextActivities", "should fail")],
        "statement.context.contextActivities: must be a contextActivities object",
    ),
    "contextActivities with an unknown key": (
        "A3",
        [("context.contextActivities.parents", [])],
        'statement.context.contextActivities["parents"]: '
        "is not an allowed property of a contextActivities object",
    ),
    "context activity id not an IRI": (
        "A3",
        [("context.contextActivities.parent[0].id", "www.example.com/meetings/series/267")],
        "statement.context.contextActivities.parent[0].id: must be an absolute IRI",
    ),
    "context activity not an Activity": (
        "A3",
        [("context.contextActivities.other[1]", {"key": "should fail"})],
        "statement.context.contextActivities.other[1].id: is required",
    ),
    "context activities a number": (
        "A3",
        [("context.contextActivities.category", 1)],
        "statement.context.contextActivities.category: "
        "must be an Activity object or an array of Activity objects",
    ),
    "revision a number": (
        "A3",
        [("context.revision", 12345)],
        "statement.context.revision: must be a string",
    ),
    "platform with an Agent object": (
        "B2",
        [("context", {"platform": "Example virtual meeting software"})],
        "statement.context.platform: is only allowed when the object is an Activity",
    ),
    "revision with a SubStatement object": (
        "B4",
        [("context", {"revision": "rev_10_3_2"})],
        "statement.context.revision: is only allowed when the object is an Activity",
    ),
    "revision in a SubStatement with a StatementRef": (
        "B4",
        [("object.context", {"revision": "rev_10_3_2"})],
        "statement.object.context.revision: is only allowed when the object is an Activity",
    ),
    "context language not a tag": (
        "A3",
        [("context.language", "something")],
        "statement.context.language: must be an RFC 5646 language tag",
    ),
    "context statement objectType": (
        "A3",
        [("context.statement.objectType", "statementref")],
        'statement.context.statement.objectType: must be "StatementRef"',
    ),
    "context statement without objectType": (
        "A3",
        [("context.statement.objectType", DELETE)],
        "statement.context.statement.objectType: is required",
    ),
    # timestamps
    "timestamp a sentence": (
        "A1",
        [("timestamp", "should fail")],
        f"statement.timestamp: {TIMESTAMP_HINT}",
    ),
    "timestamp in US format": (
        "A1",
        [("timestamp", "01/011/2015")],
        f"statement.timestamp: {TIMESTAMP_HINT}",
    ),
    "timestamp a number": (
        "A1",
        [("timestamp", 1447849020)],
        f"statement.timestamp: {TIMESTAMP_HINT}",
    ),
    "timestamp offset -00:00": (
        "A1",
        [("timestamp", "2008-09-15T15:53:00.601-00:00")],
        "statement.timestamp: must not use the offset -00:00 (write Z or +00:00 for UTC)",
    ),
    "timestamp offset -0000": (
        "A1",
        [("timestamp", "2008-09-15T15:53:00.601-0000")],
        "statement.timestamp: must not use the offset -00:00 (write Z or +00:00 for UTC)",
    ),
    "timestamp offset -00": (
        "A1",
        [("timestamp", "2008-09-15T15:53:00.601-00")],
        "statement.timestamp: must not use the offset -00:00 (write Z or +00:00 for UTC)",
    ),
    "timestamp on 30 February": (
        "A1",
        [("timestamp", "2015-02-30T12:00:00Z")],
        "statement.timestamp: is not a valid calendar date and time of day",
    ),
    "stored not a timestamp": (
        "A3",
        [("stored", "yesterday")],
        f"statement.stored: {TIMESTAMP_HINT}",
    ),
    # authority
    "authority an identified Group": (
        "A3",
        [("authority", {"objectType": "Group", "openid": "http://openid.example.org/12345"})],
        "statement.authority: a Group authority must be an anonymous Group of two Agents (OAuth)",
    ),
    "authority Group of three": (
        "A3",
        [("authority", {"objectType": "Group", "member": [LEARNER, LEARNER, LEARNER]})],
        "statement.authority.member: must list exactly two Agents in a Group authority",
    ),
    "authority without identifier": (
        "A3",
        [("authority.account", DELETE)],
        f"statement.authority: {AGENT_IFI}; found none",
    ),
    "authority in the wrong case": (
        "A3",
        [("authority", DELETE), ("auTHORity", LEARNER)],
        'statement["auTHORity"]: is not allowed; names are case-sensitive ("authority")',
    ),
    # attachments
    "attachments not an array": (
        "A1",
        [("attachments", ATTACHMENT)],
        "statement.attachments: must be an array of Attachment objects",
    ),
    "attachment a string": (
        "A1",
        [("attachments", ["should fail"])],
        "statement.attachments[0]: must be an Attachment object",
    ),
    "attachment usageType not an IRI": (
        "A1",
        [("attachments", [ATTACHMENT]), ("attachments[0].usageType", "should fail")],
        "statement.attachments[0].usageType: must be an absolute IRI",
    ),
    "attachment contentType a number": (
        "A1",
        [("attachments", [ATTACHMENT]), ("attachments[0].contentType", 12345)],
        "statement.attachments[0].contentType: must be an Internet media type such as text/plain",
    ),
    "attachment length a string": (
        "A1",
        [("attachments", [ATTACHMENT]), ("attachments[0].length", "should fail")],
        "statement.attachments[0].length: must be a non-negative integer (octets)",
    ),
    "attachment sha2 a number": (
        "A1",
        [("attachments", [ATTACHMENT]), ("attachments[0].sha2", 12345)],
        "statement.attachments[0].sha2: must be a SHA-2 hash in hexadecimal digits",
    ),
    "attachment fileUrl not an IRL": (
        "A1",
        [("attachments", [ATTACHMENT]), ("attachments[0].fileUrl", "should fail")],
        f"statement.attachments[0].fileUrl: {IRL}",
    ),
    "attachment without display": (
        "A1",
        [("attachments", [ATTACHMENT]), ("attachments[0].display", DELETE)],
        "statement.attachments[0].display: is required",
    ),
    "attachment description with a bad tag": (
        "A1",
        [("attachments", [ATTACHMENT]), ("attachments[0].description.something", "x")],
        'statement.attachments[0].description["something"]: '
        "key is not a valid RFC 5646 language tag",
    ),
    # voiding
    "voiding an Activity": (
        "A1",
        [("verb.id", "http://adlnet.gov/expapi/verbs/voided")],
        'statement.object: must be a StatementRef when the verb is "http://adlnet.gov/expapi/verbs/voided"',
    ),
}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("example", "changes", "message"), REFUSALS.values(), ids=REFUSALS.keys())
def test_malformed_statement_is_refused_with_its_path(example, changes, message, version):
    statement = changed(example_statement(example), *changes)
    assert refusal(statement, version) == message


# Accepted under both versions: what the conformance suite sends expecting 200.
ACCEPTED: dict[str, tuple[str, list[tuple[Any, Any]]]] = {
    "actor without objectType": ("A1", [("actor.objectType", DELETE)]),
    "identified Group without members": ("B3", [("object.member", DELETE)]),
    "extension values null, empty string and empty object": (
        "A3",
        [
            (("result", "extensions"), {"http://example.com/a": None, "http://example.com/b": ""}),
            (("context", "extensions"), {"http://example.com/c": {}}),
            (f"{DEFINITION}.extensions", {}),
        ],
    ),
    "language tags of every shape": (
        "A1",
        [
            (
                f"{DEFINITION}.name",
                {
                    "de": "a",
                    "de-DE": "b",
                    "zh-Hant": "c",
                    "sr-Latn-RS": "d",
                    "zh-Hans-CN": "e",
                    "es-419": "f",
                    "ase": "g",
                    "x-kalan": "h",
                    "i-klingon": "i",
                    "de-CH-1901": "j",
                    "en-a-bbb-x-a-ccc": "k",
                },
            ),
            ("context", {"language": "cmn"}),
        ],
    ),
    "durations the suite accepts": ("A2", [("result.duration", "P3Y1M29DT4H35M59.14S")]),
    "duration in weeks": ("A2", [("result.duration", "P4W")]),
    "duration in seconds only": ("A2", [("result.duration", "PT16559.14S")]),
    "score at its bounds": (
        "A2",
        [("result.score", {"scaled": -1.0, "raw": 100, "min": 0, "max": 100})],
    ),
    "score with only max": ("A2", [("result.score", {"max": 100.6767676})]),
    "timestamp with an offset and no fraction": (
        "A1",
        [("timestamp", "2015-11-18T12:17:00-05:00")],
    ),
    "timestamp far in the future": ("A1", [("timestamp", "2999-01-01T00:00:00.000Z")]),
    "timestamp in basic format": ("A1", [("timestamp", "20151118T121700Z")]),
    "timestamp with nanoseconds": ("A1", [("timestamp", "2015-11-18T12:17:00.123456789Z")]),
    "version 1.0": ("A1", [("version", "1.0")]),
    "version 1.0.9": ("A1", [("version", "1.0.9")]),
    "voiding statement": (
        "A1",
        [
            ("verb.id", "http://adlnet.gov/expapi/verbs/voided"),
            (
                "object",
                {"objectType": "StatementRef", "id": "e05aa883-acaf-40ad-bf54-02c8ce485fb0"},
            ),
        ],
    ),
    "authority anonymous Group of two": (
        "A3",
        [
            (
                "authority",
                {
                    "objectType": "Group",
                    "member": [
                        LEARNER,
                        {"account": {"homePage": "http://example.com/oauth", "name": "x75db"}},
                    ],
                },
            )
        ],
    ),
    "single context activity": (
        "A3",
        [("context.contextActivities.parent", {"id": "http://example.com/p"})],
    ),
    "attachments": ("A1", [("attachments", [ATTACHMENT])]),
    "upper-case UUID": ("A1", [("id", "FD41C918-B88B-4B20-A0A5-A4C32391AAA0")]),
    "platform with no objectType on the object": ("A1", [("context", {"platform": "kalan"})]),
    "SubStatement with context and result": (
        "B4",
        [
            ("object.object", {"id": "http://example.com/a"}),
            (
                "object.context",
                {"revision": "r1", "contextActivities": {"other": {"id": "http://example.com/o"}}},
            ),
            ("object.result", {"success": True}),
        ],
    ),
}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("example", "changes"), ACCEPTED.values(), ids=ACCEPTED.keys())
def test_statements_the_suite_accepts_are_valid(example, changes, version):
    validate_statement(changed(example_statement(example), *changes), version=version)


# ---------------------------------------------------------------- differences between versions


def minimal_statement(**extra: Any) -> dict[str, Any]:
    return {"actor": LEARNER, "verb": VERB, "object": {"id": "http://example.com/a"}, **extra}


@pytest.mark.parametrize(
    ("statement", "message_1_0_3"),
    [
        (
            minimal_statement(context={"contextAgents": [CONTEXT_AGENT]}),
            f"statement.context.contextAgents: {ONLY_2_0}",
        ),
        (
            minimal_statement(context={"contextGroups": [CONTEXT_GROUP]}),
            f"statement.context.contextGroups: {ONLY_2_0}",
        ),
        (
            minimal_statement(timestamp="2008-09-15 15:53:00.601+00:00"),
            'statement.timestamp: must separate date and time with "T" in xAPI 1.0.3',
        ),
        (minimal_statement(version="2.0.0"), 'statement.version: must be "1.0" or "1.0.x"'),
    ],
    ids=["contextAgents", "contextGroups", "RFC 3339 space", "version 2.0.0"],
)
def test_what_only_xapi_2_0_allows(statement, message_1_0_3):
    validate_statement(statement, version="2.0.0")
    assert refusal(statement, "1.0.3") == message_1_0_3


@pytest.mark.parametrize(
    ("version", "message"),
    [("1.0.3", 'must be "1.0" or "1.0.x"'), ("2.0.0", 'must be "1.0.x" or "2.0.x"')],
)
@pytest.mark.parametrize("value", ["should fail", "0.9.9", "1.1.0", "3.0.0", 1.0])
def test_versions_refused_under_each_version(value, version, message):
    assert refusal(minimal_statement(version=value), version) == f"statement.version: {message}"


def test_empty_context_activities_are_refused_in_1_0_3_only():
    statement = changed(example_statement("A3"), ("context.contextActivities", {}))
    assert refusal(statement, "1.0.3") == (
        "statement.context.contextActivities: "
        "must have at least one of parent, grouping, category, other"
    )
    validate_statement(statement, version="2.0.0")


CONTEXT_2_0_REFUSALS = {
    "contextAgent objectType": (
        {"contextAgents": [{**CONTEXT_AGENT, "objectType": "Should fail"}]},
        'statement.context.contextAgents[0].objectType: must be "contextAgent"',
    ),
    "contextAgent agent invalid": (
        {"contextAgents": [{"objectType": "contextAgent", "agent": {"key": "Should fail"}}]},
        'statement.context.contextAgents[0].agent["key"]: '
        "is not an allowed property of an Agent object",
    ),
    "contextAgent agent a Group": (
        {"contextAgents": [{"objectType": "contextAgent", "agent": CONTEXT_GROUP["group"]}]},
        'statement.context.contextAgents[0].agent.objectType: must be "Agent"',
    ),
    "contextAgent relevantTypes empty": (
        {"contextAgents": [{**CONTEXT_AGENT, "relevantTypes": []}]},
        "statement.context.contextAgents[0].relevantTypes: "
        "must be a non-empty array of Activity type IRIs",
    ),
    "contextAgent relevantTypes not IRIs": (
        {"contextAgents": [{**CONTEXT_AGENT, "relevantTypes": ["abc"]}]},
        "statement.context.contextAgents[0].relevantTypes[0]: must be an absolute IRI",
    ),
    "contextAgent without agent": (
        {"contextAgents": [{"objectType": "contextAgent"}]},
        "statement.context.contextAgents[0].agent: is required",
    ),
    "contextAgents not an array": (
        {"contextAgents": CONTEXT_AGENT},
        "statement.context.contextAgents: must be an array of contextAgent objects",
    ),
    "contextGroup with member": (
        {"contextGroups": [{**CONTEXT_GROUP, "member": [LEARNER]}]},
        'statement.context.contextGroups[0]["member"]: '
        "is not an allowed property of a contextGroup object",
    ),
    "contextGroup group invalid": (
        {"contextGroups": [{"objectType": "contextGroup", "group": {"key": "Should fail"}}]},
        "statement.context.contextGroups[0].group.objectType: is required",
    ),
    "contextGroup objectType missing": (
        {"contextGroups": [{"group": CONTEXT_GROUP["group"]}]},
        "statement.context.contextGroups[0].objectType: is required",
    ),
}


@pytest.mark.parametrize(
    ("context", "message"), CONTEXT_2_0_REFUSALS.values(), ids=CONTEXT_2_0_REFUSALS.keys()
)
def test_context_agents_and_groups_under_2_0(context, message):
    assert refusal(minimal_statement(context=context), "2.0.0") == message
    substatement = {"objectType": "SubStatement", **minimal_statement(context=context)}
    expected = message.replace("statement.context", "statement.object.context", 1)
    assert refusal(minimal_statement(object=substatement), "2.0.0") == expected


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ([("object.objectType", None)], "statement.object.objectType: must not be null"),
        (
            [("result", {"score": {"raw": float("inf")}})],
            "statement.result.score.raw: must be a finite number",
        ),
        ([("result", {"score": {"raw": 10**400, "max": 10**401}})], None),
        (
            [
                (
                    "object",
                    {
                        "objectType": "SubStatement",
                        **minimal_statement(verb={"id": "http://adlnet.gov/expapi/verbs/voided"}),
                    },
                )
            ],
            None,
        ),
    ],
    ids=[
        "null objectType",
        "infinite score",
        "huge integers",
        "SubStatement with the voiding verb",
    ],
)
def test_edge_values(changes, message):
    statement = changed(minimal_statement(), *changes)
    if message is None:
        validate_statement(statement, version="2.0.0")
    else:
        assert refusal(statement, "2.0.0") == message


def test_keys_that_json_cannot_write_are_named_too():
    statement: dict[Any, Any] = {**minimal_statement(), 7: "seven"}
    assert refusal(statement, "1.0.3") == (
        'statement["7"]: is not an allowed property of a Statement object'
    )


def test_unknown_version_is_a_programming_error():
    with pytest.raises(ValueError, match="unsupported xAPI version"):
        validate_statement(minimal_statement(), version="0.95")  # type: ignore[arg-type]


# ---------------------------------------------------------------- several statements


def test_one_statement_object_is_a_list_of_one():
    statement = minimal_statement()
    assert validate_statements(statement, version="1.0.3") == [statement]


def test_statements_are_named_by_their_index():
    batch = [minimal_statement(), minimal_statement(actor={"name": "nobody"})]
    with pytest.raises(StatementInvalid) as caught:
        validate_statements(batch, version="2.0.0")
    assert str(caught.value) == f"statements[1].actor: {AGENT_IFI}; found none"
    assert caught.value.path == "statements[1].actor"


def test_a_single_statement_is_named_statement():
    with pytest.raises(StatementInvalid, match=r"^statement\.verb: is required$"):
        validate_statements(
            {"actor": LEARNER, "object": {"id": "http://example.com/a"}}, version="1.0.3"
        )


@pytest.mark.parametrize("payload", [[], "statement", 7, None])
def test_an_empty_or_non_statement_body_is_refused(payload):
    with pytest.raises(StatementInvalid) as caught:
        validate_statements(payload, version="1.0.3")
    assert str(caught.value) == (
        "statements: must be a statement object or a non-empty array of statements"
    )


def test_a_batch_may_not_repeat_an_id():
    ident = "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"
    batch = [minimal_statement(id=ident), minimal_statement(), minimal_statement(id=ident.upper())]
    with pytest.raises(StatementInvalid) as caught:
        validate_statements(batch, version="1.0.3")
    assert str(caught.value) == "statements[2].id: repeats the id of statements[0]"


def test_a_statement_must_be_an_object():
    assert refusal(["not", "an", "object"], "1.0.3") == "statement: must be a Statement object"


# ---------------------------------------------------------------- normalisation


def test_single_context_activities_become_lists_without_touching_the_input():
    activity = {"id": "http://example.com/parent"}
    statement = minimal_statement(
        context={
            "contextActivities": {"parent": activity, "other": [activity]},
            "platform": "kalan",
        },
    )
    before = copy.deepcopy(statement)
    normalized = normalize_statement(statement, version="1.0.3")
    assert normalized["context"]["contextActivities"] == {"parent": [activity], "other": [activity]}
    assert normalized["context"]["platform"] == "kalan"
    assert statement == before
    assert normalized is not statement


def test_an_object_without_object_type_is_an_activity():
    statement = minimal_statement()
    normalized = normalize_statement(statement, version="2.0.0")
    assert normalized["object"] == {"objectType": "Activity", "id": "http://example.com/a"}
    assert "objectType" not in statement["object"]


def test_sub_statements_are_normalised_too():
    inner = minimal_statement(
        context={"contextActivities": {"grouping": {"id": "http://example.com/g"}}}
    )
    statement = minimal_statement(object={"objectType": "SubStatement", **inner})
    before = copy.deepcopy(statement)
    normalized = normalize_statement(statement, version="1.0.3")
    sub = normalized["object"]
    assert sub["object"]["objectType"] == "Activity"
    assert sub["context"]["contextActivities"]["grouping"] == [{"id": "http://example.com/g"}]
    assert statement == before


@pytest.mark.parametrize("name", example_names())
def test_normalising_examples_keeps_them_valid_and_is_idempotent(name):
    statement = example_statement(name)
    before = copy.deepcopy(statement)
    once = normalize_statement(statement, version="1.0.3")
    validate_statement(once, version="1.0.3")
    assert normalize_statement(once, version="1.0.3") == once
    assert statement == before
    for key in ("id", "stored", "authority", "version"):
        assert (key in once) == (key in statement)


# ---------------------------------------------------------------- robustness

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
STATEMENT_KEYS = st.sampled_from(
    [
        "id",
        "actor",
        "verb",
        "object",
        "result",
        "context",
        "timestamp",
        "stored",
        "authority",
        "version",
        "attachments",
    ]
)


@settings(max_examples=200)
@given(payload=JSON_VALUES, version=st.sampled_from(VERSIONS))
def test_any_json_body_gives_a_verdict_not_a_crash(payload, version):
    try:
        statements = validate_statements(payload, version=version)
    except StatementInvalid as error:
        verdict = str(error)
    else:
        verdict = f"statements: {len(statements)} valid"
    assert verdict.startswith("statement")


NESTED_PLACES = st.sampled_from(
    [
        "actor.mbox",
        "actor.account",
        "verb.display",
        "object.definition",
        "object.definition.name",
        "context.contextActivities",
        "context.contextActivities.parent",
        "context.contextActivities.parent.definition",
        "result",
        "result.score",
        "attachments",
    ]
)


@settings(max_examples=300)
@given(replacement=JSON_VALUES, place=NESTED_PLACES, version=st.sampled_from(VERSIONS))
def test_any_json_deep_inside_gives_a_verdict_not_a_crash(replacement, place, version):
    statement = minimal_statement(
        actor={
            "mbox": "mailto:a@example.com",
            "account": {"homePage": "http://x.org", "name": "n"},
        },
        object={"id": "http://example.com/a", "definition": {"name": {"en": "a"}}},
        context={"contextActivities": {"parent": {"id": "http://example.com/p", "definition": {}}}},
        result={"score": {"raw": 1}},
        attachments=[ATTACHMENT],
    )
    statement = changed(statement, (place, replacement))
    try:
        validate_statement(statement, version=version)
    except StatementInvalid as error:
        verdict = str(error)
    else:
        verdict = "statement: valid"
    assert verdict.startswith("statement")


@settings(max_examples=300)
@given(
    replacement=JSON_VALUES,
    key=STATEMENT_KEYS,
    version=st.sampled_from(VERSIONS),
)
def test_any_json_in_any_property_gives_a_verdict_not_a_crash(replacement, key, version):
    statement = minimal_statement(
        context={"contextActivities": {"parent": {"id": "http://example.com/p"}}}
    )
    statement[key] = replacement
    try:
        validate_statement(statement, version=version)
    except StatementInvalid as error:
        verdict = str(error)
    else:
        verdict = "statement: valid"
    assert verdict.startswith("statement")
