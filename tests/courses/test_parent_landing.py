"""A parent's home is the linked child's progress (issue 19 item 3): sign-in and the dashboard land
there, a picker when several children are linked; the weekly digest links to it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from communications.models import CommunicationLog
from courses.journeys import parent_digests_enqueue
from tests.factories import ParentFactory, ParentLinkFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "s3cret-Pass!"


def _sign_in(client, user):
    return client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD}, follow=True)


def test_a_parent_with_one_child_signs_in_to_the_childs_progress(client):
    link = ParentLinkFactory()

    response = _sign_in(client, link.parent)

    assert response.redirect_chain[-1][0] == reverse("courses:parent_child", args=[link.student.pk])
    assert response.status_code == 200
    assert response.context["child"] == link.student
    assert "Recent test results" in response.content.decode()


def test_a_parent_with_several_children_gets_a_picker(client):
    parent = ParentFactory()
    children = [ParentLinkFactory(parent=parent).student for _ in range(2)]

    response = _sign_in(client, parent)

    assert response.redirect_chain[-1][0] == reverse("accounts:parent_children")
    html = response.content.decode()
    for child in children:
        assert reverse("courses:parent_child", args=[child.pk]) in html


def test_the_dashboard_sends_a_parent_home_and_keeps_a_student_on_it(client):
    link = ParentLinkFactory()
    client.force_login(link.parent)
    assert client.get(reverse("courses:dashboard")).url == reverse("accounts:parent_children")

    client.force_login(UserFactory())
    assert client.get(reverse("courses:dashboard")).status_code == 200


def test_a_parent_without_a_linked_child_sees_how_to_get_linked(client):
    client.force_login(ParentFactory())

    response = client.get(reverse("courses:dashboard"), follow=True)

    assert "No student is linked to your account yet" in response.content.decode()


def test_the_weekly_digest_links_to_the_parents_landing(settings):
    link = ParentLinkFactory()

    parent_digests_enqueue()

    log = CommunicationLog.objects.filter(template="parent_digest", user=link.parent).first()
    assert log.params["url"] == settings.SITE_URL + reverse("accounts:parent_children")
