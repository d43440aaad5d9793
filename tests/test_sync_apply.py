"""Taking in another instance's versions: merge, conflicts, tombstones, refusals, and the
feed that serves them (kalan/sync/apply.py, feed.py)."""

import uuid

import pytest
from django.db import transaction

from kalan.core.stamps import clock, instance_id
from kalan.schools.models import Classroom
from kalan.schools.tests.factories import make_school
from kalan.sync import feed
from kalan.sync.apply import Applied, ApplyError, advance, apply
from kalan.sync.feed import Record
from kalan.sync.models import Conflict, Dirty, Version
from kalan.sync.seal import seal

pytestmark = pytest.mark.django_db

OTHER = "0b7d6c1e-0000-4000-8000-00000000aaaa"


def _classroom_record(school_id: uuid.UUID, room_id: uuid.UUID, seq: int, **fields: str) -> Record:
    hlc = clock().now() + 1000
    values: dict[str, str | None] = {
        "school_id": str(school_id),
        "name": "CM1",
        "grade": "",
        "is_active": "True",
        "source_id": "",
    }
    values.update(fields)
    return Record(
        model="schools.classroom",
        record_id=str(room_id),
        scope=str(school_id),
        origin=OTHER,
        seq=seq,
        deleted=False,
        fields=values,
        clocks={name: [hlc, OTHER] for name in values},
    )


def _apply(*records: Record) -> Applied:
    with transaction.atomic():
        return apply(records)


def test_a_new_record_from_another_instance_is_written_unstamped_and_not_sent_back() -> None:
    school = make_school()
    seal()
    room_id = uuid.uuid4()
    record = _classroom_record(school.pk, room_id, seq=7, name="CE1")
    done = _apply(record)
    room = Classroom.objects.get(pk=room_id)
    assert room.name == "CE1"
    assert str(room.origin) == OTHER
    assert room.hlc == record.clocks["name"][0]
    version = Version.objects.get(record_id=room_id)
    assert (str(version.origin), version.seq) == (OTHER, 7)
    assert not Dirty.objects.exists()  # not a change made here
    assert seal() == 0
    assert _apply(record).unchanged == 1  # the same version again changes nothing
    assert done.written == 1


def test_a_later_edit_wins_and_the_value_it_replaced_is_logged() -> None:
    school = make_school()
    room = Classroom.objects.create(school=school, name="CM2")
    seal()
    incoming = _classroom_record(school.pk, room.pk, seq=9, name="CM2 B")
    _apply(incoming)
    room.refresh_from_db()
    assert room.name == "CM2 B"
    conflict = Conflict.objects.get(record_id=room.pk, field="name")
    assert (conflict.kept, conflict.lost) == ("CM2 B", "CM2")
    assert str(conflict.lost_origin) == str(instance_id())


def test_a_merge_that_keeps_values_of_this_instance_is_a_new_version_here() -> None:
    school = make_school()
    room = Classroom.objects.create(school=school, name="CP")
    seal()
    incoming = _classroom_record(school.pk, room.pk, seq=3, name="CP")
    # This instance changed the grade after the other instance's version was made.
    incoming.clocks["grade"] = [1, OTHER]
    incoming.fields["grade"] = "1"
    room.grade = "CP1"
    room.save()
    seal()
    _apply(incoming)
    room.refresh_from_db()
    assert room.grade == "CP1"
    version = Version.objects.get(record_id=room.pk)
    assert version.origin == instance_id()  # a version of its own, for third instances
    assert version.fields["grade"] == "CP1"


def test_a_tombstone_deletes_the_record_for_good() -> None:
    school = make_school()
    room = Classroom.objects.create(school=school, name="CE2")
    seal()
    record = _classroom_record(school.pk, room.pk, seq=4)
    tombstone = Record(**{**record.__dict__, "deleted": True, "fields": {}, "clocks": {}})
    _apply(tombstone)
    assert not Classroom.objects.filter(pk=room.pk).exists()
    _apply(_classroom_record(school.pk, room.pk, seq=5, name="back"))  # an edit: too late
    assert not Classroom.objects.filter(pk=room.pk).exists()


def test_a_record_that_cannot_be_written_stops_naming_it_and_writes_nothing() -> None:
    school = make_school()
    good = _classroom_record(school.pk, uuid.uuid4(), seq=1)
    bad = _classroom_record(uuid.uuid4(), uuid.uuid4(), seq=2)  # a school that never came
    unknown = Record(**{**good.__dict__, "model": "lessons.plan", "record_id": str(uuid.uuid4())})
    for refused, reason in [(bad, "FOREIGN KEY|foreign key|violates"), (unknown, "does not know")]:
        with pytest.raises(ApplyError, match=reason), transaction.atomic():
            apply([good, refused])
        assert not Classroom.objects.filter(pk=good.record_id).exists()
        assert not Version.objects.filter(record_id=good.record_id).exists()


def test_the_feed_serves_what_is_above_the_positions_and_advance_moves_them() -> None:
    school = make_school()
    rooms = [Classroom.objects.create(school=school, name=f"C{i}") for i in range(5)]
    seal()
    scope = str(school.pk)
    everything = list(feed.records(scope, {}, batch=2))
    served_rooms = [r for r in everything if r.model == "schools.classroom"]
    assert {r.record_id for r in served_rooms} == {str(room.pk) for room in rooms}
    assert [r.model for r in everything] == sorted(
        (r.model for r in everything), key=["schools.school", "schools.classroom"].index
    )
    held = feed.positions(scope)
    assert held[str(instance_id())] >= max(r.seq for r in everything)
    assert list(feed.records(scope, held)) == []  # nothing new: nothing sent
    rooms[0].name = "renamed"
    rooms[0].save()
    seal()
    assert [r.record_id for r in feed.records(scope, held)] == [str(rooms[0].pk)]
    advance(scope, {OTHER: 12, str(instance_id()): 99})
    advance(scope, {OTHER: 10})
    assert feed.positions(scope)[OTHER] == 12


def test_a_change_made_here_but_not_sealed_yet_is_kept_by_the_merge() -> None:
    school = make_school()
    room = Classroom.objects.create(school=school, name="CM2")
    seal()
    room.name = "CM2 A"  # not sealed when the other instance's version arrives
    room.save()
    incoming = _classroom_record(school.pk, room.pk, seq=11, name="CM2")
    incoming.clocks["name"] = [1, OTHER]  # older than this instance's rename
    incoming.fields["grade"] = "CM2-B"
    incoming.clocks["grade"] = [clock().now() + 5000, OTHER]
    _apply(incoming)
    room.refresh_from_db()
    assert (room.name, room.grade) == ("CM2 A", "CM2-B")
    assert seal() == 0  # sealed by the merge, nothing left behind
    assert Version.objects.get(record_id=room.pk).fields["name"] == "CM2 A"


def test_a_record_deleted_here_but_not_sealed_yet_does_not_come_back() -> None:
    school = make_school()
    room = Classroom.objects.create(school=school, name="CE1")
    seal()
    room_id = room.pk
    room.delete()
    _apply(_classroom_record(school.pk, room_id, seq=12, name="CE1 B"))
    assert not Classroom.objects.filter(pk=room_id).exists()
    assert Version.objects.get(record_id=room_id).deleted


def test_a_record_written_under_one_deleted_here_is_deleted_too() -> None:
    school = make_school()
    room = Classroom.objects.create(school=school, name="CM1")
    seal()
    room_id = room.pk
    room.delete()
    seal()  # the class's tombstone
    group_id = uuid.uuid4()
    hlc = clock().now() + 1000
    values: dict[str, str | None] = {
        "school_id": str(school.pk),
        "classroom_id": str(room_id),
        "name": "Lecteurs",
    }
    group = Record(
        model="schools.learnergroup",
        record_id=str(group_id),
        scope=str(school.pk),
        origin=OTHER,
        seq=13,
        deleted=False,
        fields=values,
        clocks={name: [hlc, OTHER] for name in values},
    )
    for _attempt in range(2):  # the sync can go on, and going again changes nothing
        _apply(group)
    version = Version.objects.get(record_id=group_id)
    assert version.deleted
    assert version.origin == instance_id()  # sent on: the other instance deletes it too
