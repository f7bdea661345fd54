"""Model pieces shared across apps."""

from __future__ import annotations

from cerebrum.models import UTM_KEYS, UTMFields


def test_the_one_utm_list_is_the_utm_columns():
    columns = tuple(field.name for field in UTMFields._meta.get_fields())

    assert columns == UTM_KEYS
