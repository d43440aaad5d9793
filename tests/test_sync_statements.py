"""Statements travel by sync as they were stored: version ids in commit order, the feed,
and statements received from another instance (kalan/lrs/received.py)."""

import json
import uuid
from typing import Any

import pytest
from django.db import transaction

from kalan.accounts.xapi import actor_for
from kalan.core.stamps import instance_id
from kalan.lrs.models import Statement, StatementIndex
from kalan.lrs.statements import store_statements
from kalan.lrs.tests.xapi_client import statement
from kalan.schools.tests.factories import make_person, make_school
from kalan.sync import counter, feed
from kalan.sync.apply import ApplyError, apply
from kalan.sync.feed import Record
from kalan.sync.seal import seal

pytestmark = pytest.mark.django_db

AUTHORITY = {"objectType": "Agent", "account": {"homePage": "https://kalan.invalid", "name": "x"}}


def _store(*statements: dict[str, object]) -> list[str]:
    return store_statements(list(statements), version="2.0.0", authority=AUTHORITY)


def test_statements_stored_here_take_this_instance_s_next_counter_values() -> None:
    person = make_person(school=make_school())
    first = _store(statement(actor=actor_for(person.id)), statement(actor=actor_for(person.id)))
    later = _store(statement(actor=actor_for(person.id)))
    rows = {str(r.id): r for r in Statement.objects.all()}
    seqs = [rows[i].seq for i in [*first, *later]]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 3
    assert all(rows[i].origin == instance_id() for i in rows)


def test_the_feed_serves_a_school_s_statements_above_the_positions() -> None:
    school = make_school()
    person = make_person(school=school)
    ids = _store(*(statement(actor=actor_for(person.id)) for _ in range(5)))
    scope = str(school.pk)
    served = [r for r in feed.records(scope, {}, batch=2) if r.model == "lrs.statement"]
    assert [r.record_id for r in served] == ids  # in the order they were stored
    assert json.loads(str(served[0].fields["body"]))["id"] == ids[0]
    held = feed.positions(scope)
    assert [r for r in feed.records(scope, held) if r.model == "lrs.statement"] == []
    other = make_school()
    seal()  # mutable records are served once sealed; statements as soon as stored
    assert [r.model for r in feed.records(str(other.pk), {})] == ["schools.school"]


def test_a_statement_received_is_stored_as_it_was_and_projected() -> None:
    school = make_school()
    person = make_person(school=school)
    (made,) = _store(statement(actor=actor_for(person.id)))
    (record,) = [r for r in feed.records(str(school.pk), {}) if r.record_id == made]
    original = Statement.objects.get(pk=made)
    keys = set(StatementIndex.objects.filter(statement_id=made).values_list("key", flat=True))
    Statement.objects.filter(pk=made).delete()  # as on an instance that never had it
    other = str(uuid.uuid4())
    arriving = Record(**{**record.__dict__, "origin": other, "seq": 41})
    with transaction.atomic():
        done = apply([arriving])
    assert done.written == 1
    copy = Statement.objects.get(pk=made)
    assert (str(copy.origin), copy.seq) == (other, 41)  # not renumbered here
    assert copy.body == original.body
    assert copy.stored == original.stored
    assert copy.school_id == school.pk
    assert (
        set(StatementIndex.objects.filter(statement_id=made).values_list("key", flat=True)) == keys
    )
    with transaction.atomic():
        assert apply([arriving]).unchanged == 1  # the same statement again: nothing


def test_a_received_statement_that_is_not_what_it_claims_is_refused_whole() -> None:
    school = make_school()
    person = make_person(school=school)
    (made,) = _store(statement(actor=actor_for(person.id)))
    (record,) = [r for r in feed.records(str(school.pk), {}) if r.record_id == made]
    body = json.loads(str(record.fields["body"]))
    fresh = str(uuid.uuid4())
    good = Record(
        **{
            **record.__dict__,
            "record_id": fresh,
            "fields": {"body": json.dumps({**body, "id": fresh})},
        }
    )
    changed = Record(
        **{
            **record.__dict__,
            "fields": {"body": json.dumps({**body, "verb": {"id": "http://x.org/v"}})},
        }
    )
    wrong_id = Record(**{**record.__dict__, "record_id": str(uuid.uuid4())})
    no_stored = {key: value for key, value in body.items() if key != "stored"}
    bare = Record(
        **{
            **record.__dict__,
            "record_id": fresh,
            "fields": {"body": json.dumps({**no_stored, "id": fresh})},
        }
    )
    for refused, reason in [
        (changed, "already stored with other content"),
        (wrong_id, "its body is not that statement"),
        (bare, "no stored"),
    ]:
        with pytest.raises(ApplyError, match=reason), transaction.atomic():
            apply([good, refused] if refused is not bare else [refused])
        assert not Statement.objects.filter(pk=fresh).exists()


def test_statements_stored_before_versions_are_numbered_in_stored_order() -> None:
    """The data migration lrs 0004 on statements without a version id."""
    from importlib import import_module

    from django.apps import apps
    from django.db import connection

    class Editor:  # what the migration uses of a schema editor
        def __init__(self) -> None:
            self.connection = connection

        def execute(self, sql: str, params: Any) -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)

    person = make_person(school=make_school())
    ids = _store(*(statement(actor=actor_for(person.id)) for _ in range(4)))
    Statement.objects.update(origin=None, seq=0)
    before = counter.current()
    import_module("kalan.lrs.migrations.0004_statement_versions")._own_versions(apps, Editor())
    rows = list(Statement.objects.order_by("stored_us", "id").values_list("id", "origin", "seq"))
    assert {str(i) for i, _o, _s in rows} == set(ids)
    assert [seq for _i, _o, seq in rows] == [before + 1, before + 2, before + 3, before + 4]
    own = apps.get_model("core", "Instance").objects.get(singleton=True).id
    assert {origin for _i, origin, _s in rows} == {own}
    assert counter.current() == before + 4
