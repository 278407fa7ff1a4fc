"""The entity registry is the one place that knows entity-specific names (issue 12)."""

from __future__ import annotations

import pytest

from bitrix_frames.entities import ENTITIES, entity


@pytest.mark.parametrize("name", sorted(ENTITIES))
def test_every_entity_is_found_by_its_plural_and_names_its_methods(name):
    ent = ENTITIES[name]
    assert entity(ent.plural) is ent and entity(ent.plural.upper()) is ent
    assert ent.list_method and (ent.fields_method or ent.static_fields)
    assert ent.get_method or ent.add_method is None  # only read-only datasets lack a get
    assert ent.filter_dialect in ("crm", "plain")


def test_stage_and_marker_fields():
    assert ENTITIES["deal"].stage_field == "STAGE_ID"
    assert ENTITIES["lead"].stage_field == "STATUS_ID"
    writable = [e for e in ENTITIES.values() if e.entity_type_id and e.add_method]
    assert {e.marker_field for e in writable} == {"ORIGIN_ID"}
    assert ENTITIES["task"].marker_field == "XML_ID"
    assert [e.name for e in ENTITIES.values() if e.filter_dialect == "plain"] == ["task", "user"]


def test_an_unknown_entity_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown entity 'quotes'; expected one of: lead, deal"):
        entity("quotes")
