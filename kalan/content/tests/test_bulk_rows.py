"""kalan.core.bulk.insert_rows writes what bulk_create would, on SQLite and PostgreSQL."""

import datetime as dt
import uuid

import pytest
from django.db import IntegrityError
from django.utils import timezone

from kalan.content.models import Channel, ContentNode, NodeTag
from kalan.core.bulk import insert_rows

pytestmark = pytest.mark.django_db


def make_channel(**fields) -> Channel:
    values = {"id": uuid.uuid4(), "version": 1, "title": "Canal", "public_key": "k"}
    return Channel(**{**values, **fields})


def test_rows_of_every_field_type_come_back_as_written():
    created = dt.datetime(2026, 5, 1, 8, 30, tzinfo=dt.UTC)
    channel = make_channel(created=created, included_topics=["a", "b"], school_id=None)
    before = timezone.now()
    insert_rows([channel])
    stored = Channel.objects.get(id=channel.id)
    assert (stored.created, stored.included_topics, stored.school_id) == (created, ["a", "b"], None)
    assert stored.imported_at >= before  # auto_now is applied, as bulk_create does
    root = ContentNode(id=uuid.uuid4(), channel=channel, path="0001", kind="topic", title="R")
    child = ContentNode(
        id=uuid.uuid4(),
        channel=channel,
        parent=root,
        path="0001.0001",
        depth=1,
        kind="document",
        title="Leçon de l'élève",
        grade_levels=["P1"],
        options={"zoom": 1.5},
        duration=None,
        size=3_000_000_000,
    )
    insert_rows([root, child])
    insert_rows([NodeTag(node=child, facet="grade", value="P1")])
    node = ContentNode.objects.get(id=child.id)
    assert (node.parent_id, node.title, node.grade_levels) == (root.id, "Leçon de l'élève", ["P1"])
    assert (node.options, node.duration, node.size) == ({"zoom": 1.5}, None, 3_000_000_000)
    assert list(node.tags.values_list("facet", "value")) == [("grade", "P1")]


def test_a_row_whose_key_exists_is_updated_when_asked():
    channel = make_channel()
    insert_rows([channel])
    insert_rows(
        [make_channel(id=channel.id, title="Nouveau titre", version=2)], update_on_conflict=True
    )
    assert Channel.objects.values_list("title", "version").get() == ("Nouveau titre", 2)
    with pytest.raises(IntegrityError):
        insert_rows([make_channel(id=channel.id)])


def test_nothing_to_insert_is_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        insert_rows([])


def test_rows_that_break_a_unique_constraint_are_skipped_when_asked():
    channel = make_channel(title="Premier")
    insert_rows([channel])
    insert_rows(
        [make_channel(id=channel.id, title="Second"), make_channel()], ignore_conflicts=True
    )
    assert Channel.objects.count() == 2
    assert Channel.objects.get(id=channel.id).title == "Premier"
