"""Practice over REST: post-test analysis, bookmarks, the mistake notebook and the revision queue.

Thin: validate, call practice.selectors / services / revision (which decide access), shape the answer.
Another learner's attempt, card or notebook is a 404 (docs/api.md, Access); a linked parent reads the
child's analysis only.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cerebrum.api_tools import CreatedCursorPagination, StrictInputSerializer, error_responses
from cerebrum.shapes import serializer_for
from courses import selectors as course_selectors
from courses.apis import paginated, query_params
from practice import revision, selectors, services, shapes
from practice.models import ReviewLog

FILTERS = [
    OpenApiParameter("chapter", str, description="Only questions of this NCERT chapter (exact name)."),
    OpenApiParameter("topic", str, description="Only questions of this topic (exact name)."),
]


class FilterSerializer(serializers.Serializer):
    chapter = serializers.CharField(required=False, max_length=150)
    topic = serializers.CharField(required=False, max_length=150)


# --- Analysis -------------------------------------------------------------------------------------


AnalysisSerializer = serializer_for(shapes.Analysis)


class AttemptAnalysisApi(APIView):
    """Post-test analysis: marks, accuracy, negative marks and time by section, chapter and topic; time
    per question against the takers' average; contrasts with other takers; you vs topper and average;
    rank and NTA percentile. 409 while running or until a live mock's window closes."""

    @extend_schema(
        operation_id="attempts_analysis", responses={200: AnalysisSerializer, **error_responses(401, 404, 409, 429)}
    )
    def get(self, request, attempt_id: int):
        return Response(AnalysisSerializer(selectors.analysis_for_user(user=request.user, attempt_id=attempt_id)).data)


# --- Bookmarks and notebook -----------------------------------------------------------------------


class PracticeQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    chapter = serializers.CharField()
    topic = serializers.CharField()
    text = serializers.CharField()
    options = serializers.DictField(child=serializers.CharField())
    correct_option = serializers.SerializerMethodField(
        help_text="Null while a live mock or course test keeps it secret."
    )
    explanation = serializers.SerializerMethodField()

    def get_correct_option(self, question) -> str | None:
        return None if question.pk in _protected(self) else question.correct_option

    def get_explanation(self, question) -> str | None:
        return None if question.pk in _protected(self) else question.explanation


def _protected(serializer: serializers.Serializer) -> frozenset[int]:
    """The secret questions' ids, read once per response: the root's context is shared by every row and
    nested serializer, and each read is a Redis round trip (two a row before)."""
    context = serializer.context
    if "protected_question_ids" not in context:
        context["protected_question_ids"] = course_selectors.protected_question_ids()
    return context["protected_question_ids"]


class BookmarkSerializer(serializers.Serializer):
    question = PracticeQuestionSerializer()
    created_at = serializers.DateTimeField()


class MistakeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    question = PracticeQuestionSerializer()
    attempt_id = serializers.IntegerField()
    test_title = serializers.CharField(source="test.title")
    chosen_option = serializers.CharField(help_text="The canonical letter chosen (the key's lettering).")
    correct_option = serializers.SerializerMethodField(
        help_text="Null while a live mock or course test keeps it secret (as `question.correct_option`)."
    )
    created_at = serializers.DateTimeField()

    def get_correct_option(self, entry) -> str | None:
        return None if entry.question_id in _protected(self) else entry.correct_option


class BookmarkListApi(APIView):
    """My bookmarks (newest first, cursor pages, filter by chapter/topic); bookmark a question."""

    pagination_class = CreatedCursorPagination

    class InputSerializer(StrictInputSerializer):
        question_id = serializers.IntegerField(min_value=1)

    @extend_schema(
        operation_id="bookmarks_list",
        parameters=FILTERS,
        responses={200: BookmarkSerializer(many=True), **error_responses(400, 401, 429)},
    )
    def get(self, request):
        filters = query_params(FilterSerializer, request)
        return paginated(self, request, selectors.bookmark_list(user=request.user, **filters), BookmarkSerializer)

    @extend_schema(
        operation_id="bookmarks_create",
        request=InputSerializer,
        responses={
            201: BookmarkSerializer,
            200: BookmarkSerializer,
            **error_responses(400, 401, 404, 415, 429),
        },
        description="201 when bookmarked now, 200 when it already was (idempotent).",
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        bookmark, created = services.bookmark_add(user=request.user, **serializer.validated_data)
        return Response(BookmarkSerializer(bookmark).data, status=status.HTTP_201_CREATED if created else 200)


class BookmarkDetailApi(APIView):
    """Remove a bookmark (removing one that is not there is also 204)."""

    @extend_schema(operation_id="bookmarks_delete", responses={204: None, **error_responses(401, 429)})
    def delete(self, request, question_id: int):
        services.bookmark_remove(user=request.user, question_id=question_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotebookApi(APIView):
    """My mistake notebook: every wrong answer of my finished attempts (a live mock's once it closed)."""

    pagination_class = CreatedCursorPagination

    @extend_schema(
        operation_id="notebook_list",
        parameters=FILTERS,
        responses={200: MistakeSerializer(many=True), **error_responses(400, 401, 429)},
    )
    def get(self, request):
        filters = query_params(FilterSerializer, request)
        return paginated(self, request, selectors.mistake_list(user=request.user, **filters), MistakeSerializer)


# --- Revision queue -------------------------------------------------------------------------------


class CardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    question = PracticeQuestionSerializer()
    source = serializers.CharField()
    due = serializers.DateTimeField()
    reviews = serializers.IntegerField()


TopicSerializer = serializer_for(shapes.Topic, exclude=("total", "correct"))


class RevisionSerializer(serializers.Serializer):
    due_today = serializers.IntegerField(help_text="Cards due by the end of today (IST).")
    streak_days = serializers.IntegerField(help_text="Consecutive IST days with a review.")
    due = CardSerializer(many=True, help_text="Due now, soonest first (at most 50).")


class RevisionApi(APIView):
    """My revision queue: what is due, how many today, my streak."""

    @extend_schema(operation_id="revision_read", responses={200: RevisionSerializer, **error_responses(401, 429)})
    def get(self, request):
        data = {
            **revision.revision_summary(user=request.user),
            "due": list(revision.due_cards(user=request.user, limit=50)),
        }
        return Response(RevisionSerializer(data).data)


class ReviewRateApi(APIView):
    """Rate a due card (1 Again, 2 Hard, 3 Good, 4 Easy); FSRS sets the next due time.

    Idempotent: a card not due, or a `key` already used on it, changes nothing (`applied: false`).
    """

    class InputSerializer(StrictInputSerializer):
        rating = serializers.ChoiceField(choices=ReviewLog.Rating.values)
        # "" (the default a generated client sends) means the due time being rated.
        key = serializers.CharField(
            required=False, default="", allow_blank=True, max_length=100, help_text="Retry key."
        )

    class OutputSerializer(serializers.Serializer):
        applied = serializers.BooleanField()
        card = CardSerializer()

    @extend_schema(
        operation_id="revision_rate",
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401, 404, 415, 429)},
    )
    def post(self, request, card_id: int):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        card, applied = revision.review_rate(user=request.user, card_id=card_id, **serializer.validated_data)
        return Response(self.OutputSerializer({"applied": applied, "card": card}).data)


class DailySetSerializer(serializers.Serializer):
    reviews = CardSerializer(many=True)
    fresh = PracticeQuestionSerializer(many=True)
    weakest_topics = TopicSerializer(many=True)


class DailySetApi(APIView):
    """Today's practice set: due reviews, then fresh questions from my weakest topics."""

    @extend_schema(operation_id="revision_daily", responses={200: DailySetSerializer, **error_responses(401, 429)})
    def get(self, request):
        return Response(DailySetSerializer(revision.daily_set(user=request.user)).data)
