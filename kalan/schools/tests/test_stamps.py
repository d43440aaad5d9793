import pytest

from kalan.core.stamps import instance_id
from kalan.schools.models import AdminArea

pytestmark = pytest.mark.django_db


def test_save_stamps_clock_and_origin():
    area = AdminArea(name="Gao", kind="region")
    area.save()
    assert area.hlc > 0
    assert area.origin == instance_id()
    before = area.hlc
    area.name = "Gao region"
    area.save(update_fields=["name"])
    area.refresh_from_db()
    assert area.hlc > before
    assert area.name == "Gao region"


def test_queryset_update_and_bulk_paths_stamp_too():
    areas = AdminArea.objects.bulk_create(
        [AdminArea(name=f"R{i}", kind="region") for i in range(3)]
    )
    assert all(a.hlc > 0 and a.origin == instance_id() for a in areas)
    stamps = {a.id: a.hlc for a in areas}
    AdminArea.objects.filter(id__in=stamps).update(code="")
    for area in AdminArea.objects.filter(id__in=stamps):
        assert area.hlc > stamps[area.id]
    areas[0].name = "Kidal"
    before = AdminArea.objects.get(id=areas[0].id).hlc
    AdminArea.objects.bulk_update([areas[0]], ["name"])
    assert AdminArea.objects.get(id=areas[0].id).hlc > before
