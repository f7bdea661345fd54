"""The learner pages: analysis link on the result, revision (rate through the form), notebook filters,
and the dashboard's due-today and streak line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from practice.models import ReviewCard, ReviewLog
from tests.factories import QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_result_page_links_to_the_analysis(client, ten_learner_test):
    attempt = ten_learner_test["attempts"][10]
    client.force_login(ten_learner_test["learners"][10])
    page = client.get(reverse("courses:attempt_result", args=[attempt.pk])).content.decode()
    assert reverse("practice:analysis", args=[attempt.pk]) in page


def test_analysis_page_shows_the_numbers_and_labelled_charts(client, ten_learner_test):
    client.force_login(ten_learner_test["learners"][10])
    page = client.get(reverse("practice:analysis", args=[ten_learner_test["attempts"][10].pk])).content.decode()
    assert "Rank <strong>5</strong> of 10" in page
    assert "NTA percentile <strong>60.0000000</strong>" in page
    assert "Negative marks <strong>−2</strong>" in page
    for axis_title in ("Marks", "Minutes", "Accuracy (%)", "Seconds"):
        assert f">{axis_title}</text>" in page
    assert page.count("<svg") == 4


def test_dashboard_shows_due_today_and_streak(client, ten_learner_test):
    me = ten_learner_test["learners"][10]
    client.force_login(me)
    page = client.get(reverse("courses:dashboard")).content.decode()
    assert 'id="revision-today"' in page
    assert "<strong>2</strong> questions due today" in page


def test_rating_through_the_page_then_the_streak(client, db, django_capture_on_commit_callbacks):
    learner = UserFactory()
    client.force_login(learner)
    question = QuestionFactory()
    client.post(reverse("practice:bookmark", args=[question.pk]))
    card = ReviewCard.objects.get(user=learner)
    page = client.get(reverse("practice:revision")).content.decode()
    assert f'id="card-{card.pk}"' in page
    url = reverse("practice:review_rate", args=[card.pk])
    with django_capture_on_commit_callbacks(execute=True):  # the rating drops the cached summary
        assert client.post(url, {"rating": 3}).status_code == 302
    assert client.post(url, {"rating": 1}).status_code == 302  # not due any more: nothing
    assert ReviewLog.objects.filter(card=card).count() == 1
    assert "streak <strong>1</strong> day" in client.get(reverse("practice:revision")).content.decode()
    client.force_login(UserFactory())
    assert client.post(url, {"rating": 3}).status_code == 404


def test_notebook_page_filters_by_topic(client, ten_learner_test):
    client.force_login(ten_learner_test["learners"][10])
    page = client.get(reverse("practice:notebook"), {"topic": "Genetics"}).content.decode()
    assert page.count('class="card mistake"') == 1
    assert "Genetics" in page


def test_practice_pages_and_the_dashboards_revision_line_in_hindi(client, ten_learner_test):
    client.cookies["django_language"] = "hi"
    client.force_login(ten_learner_test["learners"][10])
    ReviewCard.objects.filter(user=ten_learner_test["learners"][10]).update(due=timezone.now() - timedelta(minutes=1))

    dashboard = client.get(reverse("courses:dashboard")).content.decode()
    analysis = client.get(reverse("practice:analysis", args=[ten_learner_test["attempts"][10].pk])).content.decode()
    notebook = client.get(reverse("practice:notebook")).content.decode()
    revision = client.get(reverse("practice:revision")).content.decode()

    assert "आज <strong>2</strong> प्रश्न दोहराने हैं · लगातार <strong>0</strong> दिन" in dashboard
    assert "रैंक <strong>5</strong> (कुल 10 में से) · NTA पर्सेंटाइल <strong>60.0000000</strong>" in analysis
    assert ">अंक</text>" in analysis  # a chart's axis title
    assert '<td data-label="परिणाम">गलत</td>' in analysis
    assert "गलतियों की नोटबुक और बुकमार्क" in notebook
    assert "आपने Hand-computed mock में <strong>B</strong> चुना" in notebook
    assert ">फिर से</button>" in revision  # FSRS's "Again"
    assert "Mistake notebook" not in revision
