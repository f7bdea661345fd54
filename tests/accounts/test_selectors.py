"""accounts.selectors: cached profile, and a parent sees only their own children."""

from __future__ import annotations

import pytest

from accounts import selectors
from cerebrum.errors import NotFound
from tests.factories import ParentFactory, ParentLinkFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_profile_is_cached_after_the_first_read(django_assert_num_queries):
    user = UserFactory(name="Asha", profile={"grade": "12"})
    with django_assert_num_queries(1):
        first = selectors.user_profile_get(user_id=user.pk)

    with django_assert_num_queries(0):
        second = selectors.user_profile_get(user_id=user.pk)

    assert first == second
    assert (second["name"], second["profile"], second["role"]) == ("Asha", {"grade": "12"}, "STUDENT")


def test_role_is_cached(django_assert_num_queries):
    parent = ParentFactory()
    assert selectors.user_role_get(user_id=parent.pk) == "PARENT"

    with django_assert_num_queries(0):
        assert selectors.user_role_get(user_id=parent.pk) == "PARENT"


def test_missing_profile_is_not_found():
    with pytest.raises(NotFound):
        selectors.user_profile_get(user_id=987654)


def test_children_for_parent_lists_only_linked_children_with_relation():
    parent, other_parent = ParentFactory(), ParentFactory()
    zoya = UserFactory(name="Zoya")
    aman = UserFactory(name="Aman")
    ParentLinkFactory(parent=parent, student=zoya, relation="MOTHER")
    ParentLinkFactory(parent=parent, student=aman, relation="GUARDIAN")
    ParentLinkFactory(parent=other_parent, student=aman, relation="FATHER")
    ParentLinkFactory(parent=other_parent, student=UserFactory())

    children = list(selectors.children_for_parent(parent=parent))

    assert [(child.name, child.relation) for child in children] == [("Aman", "GUARDIAN"), ("Zoya", "MOTHER")]


def test_child_get_for_parent_returns_a_linked_child(django_assert_num_queries):
    link = ParentLinkFactory()

    with django_assert_num_queries(1):
        child = selectors.child_get_for_parent(parent=link.parent, student_id=link.student_id)

    assert child == link.student


@pytest.mark.parametrize("whose", ["other_family", "missing", "parent_self"])
def test_child_get_for_parent_is_not_found_for_anyone_else(whose):
    link = ParentLinkFactory()
    ids = {"other_family": ParentLinkFactory().student_id, "missing": 987654, "parent_self": link.parent_id}

    with pytest.raises(NotFound):
        selectors.child_get_for_parent(parent=link.parent, student_id=ids[whose])
