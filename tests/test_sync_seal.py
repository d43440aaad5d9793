"""Sealing: every write of a mutable record becomes a version, in commit order (ADR 0009)."""

import uuid

import pytest
from django.db import transaction

from kalan.accounts.models import User
from kalan.core.stamps import instance_id
from kalan.schools.models import Classroom, School
from kalan.schools.tests.factories import make_person, make_school
from kalan.sync import counter
from kalan.sync.models import Dirty, Version
from kalan.sync.registry import Syncable
from kalan.sync.seal import seal

pytestmark = pytest.mark.django_db


def _version(row: object) -> Version:
    return Version.objects.get(record_id=row.pk)  # type: ignore[attr-defined]


def test_counter_values_are_taken_in_the_writing_transaction() -> None:
    with transaction.atomic():
        first = counter.take(3)
        second = counter.take(1)
    assert list(first) == [first.start, first.start + 1, first.start + 2]
    assert second.start == first.stop
    assert counter.current() == second.start


@pytest.mark.django_db(transaction=True)
def test_counter_values_are_never_taken_outside_a_transaction() -> None:
    with pytest.raises(RuntimeError):
        counter.take(1)  # outside a transaction the order would not be the commit order


def test_every_kind_of_write_leaves_its_key_and_sealing_makes_one_version_each() -> None:
    school = make_school()
    person = make_person(school=school)
    Classroom.objects.bulk_create([Classroom(school=school, name="CM1")])
    User.objects.filter(pk=person.pk).update(full_name="Awa Traoré")
    keys = set(Dirty.objects.values_list("model", "record_id"))
    assert ("schools.school", school.pk) in keys
    assert ("accounts.user", person.pk) in keys
    assert any(model == "schools.classroom" for model, _id in keys)

    made = seal()
    assert made == len(keys)
    assert not Dirty.objects.exists()
    version = _version(person)
    assert version.fields["full_name"] == "Awa Traoré"
    assert version.fields["school_id"] == str(school.pk)
    assert version.scope == school.pk
    assert version.origin == instance_id()
    assert "last_login" not in version.fields
    assert "hlc" not in version.fields
    seqs = list(Version.objects.values_list("seq", flat=True))
    assert len(set(seqs)) == len(seqs)  # one value each: a transfer can stop between two
    assert _version(school).scope == school.pk  # a school is its own scope
    assert seal() == 0  # nothing new


def test_only_the_fields_that_changed_take_the_new_clock() -> None:
    person = make_person(school=make_school())
    seal()
    before = _version(person)
    person.full_name = "Moussa Keita"
    person.save()
    assert seal() == 1
    after = _version(person)
    assert after.seq > before.seq
    assert after.clocks["full_name"][0] == person.hlc
    assert after.clocks["full_name"][0] > before.clocks["full_name"][0]
    assert after.clocks["username"] == before.clocks["username"]


def test_a_save_that_changes_nothing_makes_no_version() -> None:
    person = make_person(school=make_school())
    seal()
    seq = _version(person).seq
    person.save()  # the same values, a new clock
    assert seal() == 0
    assert _version(person).seq == seq


def test_a_deleted_record_becomes_a_tombstone() -> None:
    school = make_school()
    room = Classroom.objects.create(school=school, name="CE2")
    seal()
    room_id = room.pk
    room.delete()
    assert seal() == 1
    tombstone = Version.objects.get(record_id=room_id)
    assert tombstone.deleted
    assert tombstone.fields == {}
    assert tombstone.scope == school.pk


def test_a_record_made_and_deleted_between_two_seals_leaves_nothing() -> None:
    room = Classroom.objects.create(school=make_school(), name="CP")
    room_id = room.pk
    room.delete()
    seal()
    assert not Version.objects.filter(record_id=room_id).exists()


def test_a_write_rolled_back_leaves_no_key() -> None:
    school = make_school()
    seal()

    def failing_request() -> None:
        with transaction.atomic():
            School.objects.filter(pk=school.pk).update(name="Renamed")
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        failing_request()
    assert not Dirty.objects.exists()
    assert seal() == 0


def test_bulk_deletes_of_other_models_stay_fast() -> None:
    """Deletions are heard for registered models only: a receiver for every model would
    make Django read the rows of each bulk delete first."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_school()  # leaves keys
    with CaptureQueriesContext(connection) as queries:
        Dirty.objects.all().delete()
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["DELETE"]


def test_a_key_written_again_while_sealing_stays_for_the_next_seal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kalan.sync import seal as sealing

    room = Classroom.objects.create(school=make_school(), name="CM1")
    versions = sealing._versions

    def meanwhile(entry: Syncable, ids: list[uuid.UUID]) -> list[Version]:
        made = versions(entry, ids)
        if entry.model is Classroom:  # read: now another transaction writes it again
            Classroom.objects.filter(pk=room.pk).update(name="CM1 bis")
        return made

    monkeypatch.setattr(sealing, "_versions", meanwhile)
    seal()
    assert Dirty.objects.filter(record_id=room.pk).exists()
    monkeypatch.setattr(sealing, "_versions", versions)
    assert seal() == 1
    assert _version(room).fields["name"] == "CM1 bis"
