"""Courses over REST: catalog, enrollments, dashboard, notes, tests and attempts, leaderboards.

Thin by design: validate input, call courses.selectors (which decide access) or courses.services, shape the answer.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors as account_selectors
from accounts.models import Grade
from analytics.attribution import first_touch
from cerebrum.api_tools import (
    CreatedCursorPagination,
    StrictInputSerializer,
    error_responses,
    idempotent,
    personal_etag,
    personal_json,
    personal_json_schema,
)
from cerebrum.errors import Conflict, DomainError, NotFound
from cerebrum.shapes import serializer_for
from courses import caches, selectors, services, shapes
from courses.hindi import MEDIUMS
from courses.models import Course, Enrollment, NcertClass, PracticeTest, TestAttempt

# The schema's statement of an ISO week (week 53 exists only in some years: the selector checks the calendar).
ISO_WEEK_PATTERN = r"^[1-9][0-9]{3}-W(0[1-9]|[1-4][0-9]|5[0-3])$"
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Retry-safe creates: the same key and body replay the first response for 24 h.",
)


def paginated(view: APIView, request, queryset, serializer_class) -> Response:
    """A cursor page; the view declares `pagination_class` so the schema shows the envelope too."""
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def query_params(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- Catalog ------------------------------------------------------------------------------------


class CourseOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Course
        fields = ["id", "name", "slug", "type", "class_level", "fees_paise", "is_featured", "start_date", "created_at"]
        read_only_fields = fields


class CourseListApi(APIView):
    """Active courses, filterable by class and type (public; cached per URL)."""

    permission_classes = [AllowAny]
    pagination_class = CreatedCursorPagination

    class FilterSerializer(serializers.Serializer):
        type = serializers.ChoiceField(choices=Course.Type.choices, required=False)

        def get_fields(self):
            # The query parameter is "class", a Python keyword, so it cannot be declared as an attribute.
            return {**super().get_fields(), "class": serializers.ChoiceField(choices=Grade.choices, required=False)}

    shared_query_form = FilterSerializer  # cerebrum.http_cache: the only query a shared copy is kept for

    @extend_schema(
        operation_id="courses_list",
        parameters=[
            OpenApiParameter("class", str, enum=Grade.values, description="Class level: 11, 12 or DROPPER."),
            OpenApiParameter("type", str, enum=Course.Type.values),
        ],
        responses={200: CourseOutputSerializer(many=True), **error_responses(400, 429)},
    )
    def get(self, request):
        filters = query_params(self.FilterSerializer, request)
        courses = selectors.course_list(class_level=filters.get("class"), type=filters.get("type"))
        return paginated(self, request, courses, CourseOutputSerializer)


class CourseDetailApi(APIView):
    permission_classes = [AllowAny]

    class OutputSerializer(CourseOutputSerializer):
        description = serializers.CharField()
        syllabus = serializers.SerializerMethodField()
        fees = serializers.SerializerMethodField()

        class Meta(CourseOutputSerializer.Meta):
            fields = [*CourseOutputSerializer.Meta.fields, "description", "syllabus", "fees"]
            read_only_fields = fields

        def get_syllabus(self, course: Course) -> list[str]:
            return [line.strip() for line in course.syllabus.splitlines() if line.strip()]

        def get_fees(self, course: Course) -> dict[str, int]:
            return selectors.fees_breakdown(course.fees_paise)

    @extend_schema(operation_id="courses_read", responses={200: OutputSerializer, **error_responses(404, 429)})
    def get(self, request, slug: str):
        return Response(self.OutputSerializer(selectors.course_get(slug=slug)).data)


# --- Enrollments --------------------------------------------------------------------------------


class EnrollmentOutputSerializer(serializers.ModelSerializer):
    course = CourseOutputSerializer()

    class Meta:
        model = Enrollment
        fields = ["id", "status", "course", "enrollment_date", "created_at"]
        read_only_fields = fields


class EnrollmentListApi(APIView):
    """My enrollments (newest first, cursor pages), and enrolling in a course (PENDING until paid)."""

    pagination_class = CreatedCursorPagination

    class InputSerializer(StrictInputSerializer):
        course = serializers.SlugField(help_text="The course's slug.")

    @extend_schema(
        operation_id="enrollments_list",
        responses={200: EnrollmentOutputSerializer(many=True), **error_responses(400, 401, 429)},
    )
    def get(self, request):
        return paginated(
            self, request, selectors.enrollment_list_for_user(user=request.user), EnrollmentOutputSerializer
        )

    @extend_schema(
        operation_id="enrollments_create",
        parameters=[IDEMPOTENCY_HEADER],
        request=InputSerializer,
        responses={201: EnrollmentOutputSerializer, **error_responses(400, 401, 409, 415, 422, 429)},
    )
    @idempotent
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            course = selectors.course_get(slug=serializer.validated_data["course"])
        except NotFound as exc:
            raise DomainError("No such course.", fields={"course": ["No open course with this slug."]}) from exc
        enrollment = services.enrollment_create(user=request.user, course=course, utm=first_touch(request))
        return Response(EnrollmentOutputSerializer(enrollment).data, status=status.HTTP_201_CREATED)


class EnrollmentDetailApi(APIView):
    @extend_schema(
        operation_id="enrollments_read", responses={200: EnrollmentOutputSerializer, **error_responses(401, 404, 429)}
    )
    def get(self, request, enrollment_id: int):
        enrollment = selectors.enrollment_get_for_user(user=request.user, enrollment_id=enrollment_id)
        return Response(EnrollmentOutputSerializer(enrollment).data)


# --- Dashboard ----------------------------------------------------------------------------------


DashboardCourseSerializer = serializer_for(shapes.DashboardCourse)
DashboardEnrollmentSerializer = serializer_for(shapes.DashboardEnrollment)
DashboardActivitySerializer = serializer_for(shapes.DashboardActivity)
DashboardUserSerializer = serializer_for(
    shapes.DashboardUser, fields={"email": serializers.EmailField(allow_null=True)}
)


class DashboardApi(APIView):
    """The report's getStudentDashboard in one call: cached in Redis for 5 minutes."""

    class OutputSerializer(
        serializer_for(shapes.Dashboard, exclude=("built_at",), fields={"user": DashboardUserSerializer()})
    ):
        pass

    @extend_schema(
        operation_id="dashboard_read",
        parameters=personal_json_schema(OutputSerializer)["parameters"],
        responses={**personal_json_schema(OutputSerializer)["responses"], **error_responses(401, 429)},
    )
    def get(self, request):
        # The version first, then the data stored under it: a 304 costs one Redis GET and no SQL.
        user = request.user
        version = selectors.dashboard_version(user=user)
        return personal_json(
            request,
            etag=personal_etag("dashboard", user.pk, version),
            build=lambda: self.OutputSerializer(selectors.dashboard_for_user(user=user, version=version)).data,
        )


class PageStateApi(APIView):
    """What the pages nginx shares cannot say about the learner: the live enrollments by course slug (the
    course page shows "Enrolled" instead of its form) and the running attempt by test slug (the test page
    shows "Continue your attempt"). static/js/page_state.js fetches it on those pages with the ETag it
    holds: 304 after one Redis read and no SQL; the learner's own enrollment or start changes it at once."""

    class OutputSerializer(serializers.Serializer):
        enrolled = serializers.DictField(
            child=serializers.IntegerField(), help_text="Course slug → the live enrollment's id (pending, active)."
        )
        running = serializers.DictField(
            child=serializers.IntegerField(), help_text="Test slug → the id of the attempt in progress."
        )

    @extend_schema(
        operation_id="page_state_read",
        parameters=personal_json_schema(OutputSerializer)["parameters"],
        responses={**personal_json_schema(OutputSerializer)["responses"], **error_responses(401, 429)},
    )
    def get(self, request):
        version, data = selectors.page_state_for_user(user=request.user)
        return personal_json(request, etag=personal_etag("page-state", request.user.pk, version), build=lambda: data)


# --- Notes --------------------------------------------------------------------------------------


NoteGradeSerializer = serializer_for(shapes.NoteGrade)


class NoteListApi(APIView):
    """Published NCERT notes as grade → chapter → notes.

    Not cursor-paginated: the whole tree is a few dozen chapters, built in one query and cached.
    """

    permission_classes = [AllowAny]

    class FilterSerializer(serializers.Serializer):
        grade = serializers.ChoiceField(choices=NcertClass.choices, required=False)

    shared_query_form = FilterSerializer

    @extend_schema(
        operation_id="notes_list",
        parameters=[OpenApiParameter("grade", str, enum=NcertClass.values)],
        responses={200: NoteGradeSerializer(many=True), **error_responses(400, 429)},
    )
    def get(self, request):
        filters = query_params(self.FilterSerializer, request)
        return Response(NoteGradeSerializer(selectors.note_tree(grade=filters.get("grade")), many=True).data)


class NoteDetailApi(APIView):
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        title = serializers.CharField()
        slug = serializers.CharField()
        curriculum = serializers.CharField()
        grade = serializers.CharField()
        chapter_number = serializers.IntegerField()
        chapter = serializers.CharField()
        body = serializers.CharField(help_text="Markdown.")
        updated_at = serializers.DateTimeField()

    @extend_schema(operation_id="notes_read", responses={200: OutputSerializer, **error_responses(404, 429)})
    def get(self, request, slug: str):
        return Response(self.OutputSerializer(selectors.note_get(slug=slug)).data)


# --- Tests ----------------------------------------------------------------------------------------


class TestOutputSerializer(serializers.ModelSerializer):
    course = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    max_attempts = serializers.IntegerField(
        source="attempts_allowed", read_only=True, help_text="Attempts one learner may make: 1 for a live mock."
    )
    grade = serializers.CharField(help_text="11, 12 or DROPPER; blank when the test is for every grade.")

    class Meta:
        model = PracticeTest
        fields = [
            "id",
            "slug",
            "title",
            "description",
            "grade",
            "duration_minutes",
            "marks_correct",
            "marks_wrong",
            "marks_unanswered",
            "is_free",
            "course",
            "scheduled_start",
            "max_attempts",
            "created_at",
        ]
        read_only_fields = fields


class TestListApi(APIView):
    """Published tests (public)."""

    permission_classes = [AllowAny]
    pagination_class = CreatedCursorPagination

    @extend_schema(
        operation_id="tests_list", responses={200: TestOutputSerializer(many=True), **error_responses(400, 429)}
    )
    def get(self, request):
        return paginated(self, request, selectors.test_list(user=request.user), TestOutputSerializer)


class TestDetailApi(APIView):
    permission_classes = [AllowAny]

    class OutputSerializer(TestOutputSerializer):
        question_count = serializers.SerializerMethodField()

        class Meta(TestOutputSerializer.Meta):
            fields = [*TestOutputSerializer.Meta.fields, "question_count"]
            read_only_fields = fields

        def get_question_count(self, test: PracticeTest) -> int:
            return len(caches.paper_get(test)["questions"])

    @extend_schema(operation_id="tests_read", responses={200: OutputSerializer, **error_responses(404, 429)})
    def get(self, request, slug: str):
        return Response(self.OutputSerializer(selectors.test_get(slug=slug)).data)


# --- Attempts -----------------------------------------------------------------------------------


class HindiQuestionSerializer(serializers.Serializer):
    """A question's Hindi version (issue 18 item 5); "" where English prevails (docs/hindi.md)."""

    text = serializers.CharField(allow_blank=True)
    options = serializers.DictField(
        child=serializers.CharField(allow_blank=True), help_text="A to D in the same order as `options`."
    )


HINDI_HELP = "The Hindi version, or null when the question has none; a blank field means: show the English one."


class PaperQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    text = serializers.CharField()
    options = serializers.DictField(child=serializers.CharField())
    hi = HindiQuestionSerializer(allow_null=True, default=None, help_text=HINDI_HELP)
    topic = serializers.CharField()
    chapter = serializers.CharField()
    chosen = serializers.CharField(allow_blank=True)
    marked = serializers.BooleanField()


class ResultQuestionSerializer(PaperQuestionSerializer):
    correct = serializers.CharField(required=False)
    explanation = serializers.CharField(required=False, allow_blank=True)
    explanation_hi = serializers.CharField(required=False, allow_blank=True, help_text="Blank: use `explanation`.")


class AttemptOutputSerializer(serializers.ModelSerializer):
    test = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    seconds_left = serializers.SerializerMethodField()

    class Meta:
        model = TestAttempt
        fields = ["id", "test", "attempt_number", "status", "started_at", "expires_at", "submitted_at", "seconds_left"]
        read_only_fields = fields

    def get_seconds_left(self, attempt: TestAttempt) -> int:
        return selectors.seconds_left(attempt) if attempt.status == TestAttempt.Status.IN_PROGRESS else 0


class AttemptResultSerializer(AttemptOutputSerializer):
    """Pass selectors.attempt_for_result(attempt): a live mock's score stays blank until results open."""

    questions = serializers.SerializerMethodField()
    results_open_at = serializers.DateTimeField(
        allow_null=True, default=None, help_text="Set while a live mock's results are still hidden."
    )

    class Meta(AttemptOutputSerializer.Meta):
        fields = [
            *AttemptOutputSerializer.Meta.fields,
            "score",
            "correct_count",
            "wrong_count",
            "unanswered_count",
            "topic_breakdown",
            "section_breakdown",
            "results_open_at",
            "questions",
        ]
        read_only_fields = fields

    @extend_schema_field(ResultQuestionSerializer(many=True))
    def get_questions(self, attempt: TestAttempt) -> list[dict]:
        return [_with_hindi(question) for question in selectors.attempt_view(attempt=attempt, reveal=True)]


class PaperItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    text = serializers.CharField()
    options = serializers.DictField(child=serializers.CharField(), help_text="In this learner's order, A to D.")
    hi = HindiQuestionSerializer(allow_null=True, default=None, help_text=HINDI_HELP)
    topic = serializers.CharField()
    chapter = serializers.CharField()
    section = serializers.CharField(allow_blank=True)


class SectionSerializer(serializers.Serializer):
    name = serializers.CharField()
    question_ids = serializers.ListField(child=serializers.IntegerField())
    attempt_any = serializers.IntegerField(allow_null=True, help_text="NTA's attempt any N of the section.")


class StoredAnswerSerializer(serializers.Serializer):
    option = serializers.CharField(allow_blank=True)
    marked_for_review = serializers.BooleanField()
    seq = serializers.IntegerField()


class AttemptStateSerializer(AttemptOutputSerializer):
    """The exam screen's state (docs/exam.md); `questions` is the older shape, kept for existing apps."""

    deadline = serializers.DateTimeField(
        source="expires_at", default_timezone=UTC, help_text="UTC, with any extra time granted."
    )
    server_now = serializers.SerializerMethodField()
    paper = serializers.SerializerMethodField()
    sections = serializers.SerializerMethodField()
    answers = serializers.SerializerMethodField()
    visited = serializers.SerializerMethodField()
    last_seq = serializers.SerializerMethodField()
    questions = serializers.SerializerMethodField()
    medium = serializers.ChoiceField(
        choices=MEDIUMS, read_only=True, help_text="Chosen at the start: show `hi` where present, else English."
    )

    class Meta(AttemptOutputSerializer.Meta):
        fields = [
            *AttemptOutputSerializer.Meta.fields,
            "medium",
            "deadline",
            "server_now",
            "paper",
            "sections",
            "answers",
            "visited",
            "last_seq",
            "questions",
        ]
        read_only_fields = fields

    def _state(self, attempt: TestAttempt) -> dict:
        if not hasattr(attempt, "_exam_state"):
            attempt._exam_state = selectors.attempt_state(attempt=attempt)
        return attempt._exam_state

    def get_server_now(self, attempt: TestAttempt) -> datetime:
        return self._state(attempt)["server_now"]

    @extend_schema_field(PaperItemSerializer(many=True))
    def get_paper(self, attempt: TestAttempt) -> list[dict]:
        return [_with_hindi(question) for question in self._state(attempt)["paper"]]

    @extend_schema_field(SectionSerializer(many=True))
    def get_sections(self, attempt: TestAttempt) -> list[dict]:
        return self._state(attempt)["sections"]

    @extend_schema_field(serializers.DictField(child=StoredAnswerSerializer()))
    def get_answers(self, attempt: TestAttempt) -> dict:
        return self._state(attempt)["answers"]

    def get_visited(self, attempt: TestAttempt) -> list[int]:
        return self._state(attempt)["visited"]

    def get_last_seq(self, attempt: TestAttempt) -> int:
        return self._state(attempt)["last_seq"]

    @extend_schema_field(PaperQuestionSerializer(many=True))
    def get_questions(self, attempt: TestAttempt) -> list[dict]:
        state = self._state(attempt)
        visited = set(state["visited"])
        return [
            {
                **_with_hindi(question),
                "chosen": state["answers"].get(str(question["id"]), {}).get("option", ""),
                "marked": state["answers"].get(str(question["id"]), {}).get("marked_for_review", False),
                "visited": question["id"] in visited,
            }
            for question in state["paper"]
        ]


def _with_hindi(question: dict) -> dict:
    """The paper's question with `hi` always present (the paper has it only on translated questions)."""
    return question if "hi" in question else {**question, "hi": None}


def attempt_state_data(attempt: TestAttempt) -> dict:
    """The state as PostgreSQL has it: status and deadline come from the state's read, not the cached row."""
    state = selectors.attempt_state(attempt=attempt)
    fresh = copy.copy(attempt)
    fresh.status, fresh.expires_at, fresh._exam_state = state["status"], state["deadline"], state
    return AttemptStateSerializer(fresh).data


def own_attempt(request, attempt_id: int) -> TestAttempt:
    """Only the learner who started an attempt may answer or submit it (a parent or staff may only read it)."""
    # The running attempt comes from Redis (selectors.attempt_get_for_user): no query on the exam's hot path.
    return selectors.attempt_get_own(user=request.user, attempt_id=attempt_id)


class AttemptStartApi(APIView):
    """Start the test, or get the attempt already running; returns the paper without answers."""

    class FilterSerializer(serializers.Serializer):
        medium = serializers.ChoiceField(choices=MEDIUMS, required=False, default="en")

    @extend_schema(
        operation_id="attempts_start",
        parameters=[
            IDEMPOTENCY_HEADER,
            OpenApiParameter(
                "medium",
                str,
                enum=list(MEDIUMS),
                description="The medium of the questions (en, the default, or hi); a running attempt keeps its own.",
            ),
        ],
        request=None,
        responses={201: AttemptStateSerializer, **error_responses(400, 401, 404, 409, 422, 429)},
    )
    @idempotent
    def post(self, request, slug: str):
        medium = query_params(self.FilterSerializer, request)["medium"]
        attempt = services.attempt_start(test=selectors.test_get(slug=slug), user=request.user, medium=medium)
        return Response(attempt_state_data(attempt), status=status.HTTP_201_CREATED)


class AttemptDetailApi(APIView):
    """An attempt's state for the exam screen: deadline, paper in the learner's order, answers, seqs."""

    @extend_schema(
        operation_id="attempts_read", responses={200: AttemptStateSerializer, **error_responses(401, 404, 429)}
    )
    def get(self, request, attempt_id: int):
        attempt = selectors.attempt_get_for_user(user=request.user, attempt_id=attempt_id)
        return Response(attempt_state_data(attempt))


class AnswerItemSerializer(StrictInputSerializer):
    question_id = serializers.IntegerField(min_value=1)
    option = serializers.ChoiceField(
        choices=["A", "B", "C", "D", ""],
        allow_blank=True,
        help_text="The letter as this learner saw the option (their order); empty clears the answer.",
    )
    marked_for_review = serializers.BooleanField(required=False, default=False)
    seq = serializers.IntegerField(
        min_value=1, max_value=2_000_000_000, help_text="Per attempt, increasing; per question the highest wins."
    )
    time_spent_seconds = serializers.IntegerField(
        min_value=0, max_value=86_400, required=False, default=0, help_text="Seconds on it since the last send."
    )


class AttemptAnswerApi(APIView):
    """Save answers: a batch with the client's seq (newest per question wins; retries are harmless).

    The older body, one answer without seq, is still accepted and stored as the newest. 409
    `attempt_closed` once the attempt is submitted or its time (+ grace) is up.
    """

    class InputSerializer(StrictInputSerializer):
        answers = AnswerItemSerializer(many=True, allow_empty=False, max_length=services.MAX_ANSWERS_PER_SAVE)

    class SingleInputSerializer(StrictInputSerializer):
        question_id = serializers.IntegerField(min_value=1)
        option = serializers.ChoiceField(choices=["A", "B", "C", "D", ""], allow_blank=True, allow_null=True)
        marked_for_review = serializers.BooleanField(required=False, default=False)

    class OutputSerializer(serializers.Serializer):
        saved = serializers.IntegerField(help_text="Rows written (older or repeated seqs write nothing).")
        acknowledged_seq = serializers.IntegerField(help_text="The highest seq stored for this attempt.")

    @extend_schema(
        operation_id="attempts_answer",
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401, 404, 409, 415, 429)},
    )
    def post(self, request, attempt_id: int):
        batch = isinstance(request.data, dict) and "answers" in request.data
        serializer = (self.InputSerializer if batch else self.SingleInputSerializer)(data=request.data)
        serializer.is_valid(raise_exception=True)
        answers = serializer.validated_data["answers"] if batch else [{**serializer.validated_data, "seq": None}]
        result = services.attempt_answers_save(attempt=own_attempt(request, attempt_id), answers=answers)
        return Response(self.OutputSerializer(result).data)


class AttemptSubmitApi(APIView):
    """Score the attempt; submitting again returns the same result."""

    @extend_schema(
        operation_id="attempts_submit",
        parameters=[IDEMPOTENCY_HEADER],
        request=None,
        responses={200: AttemptResultSerializer, **error_responses(401, 404, 409, 422, 429)},
    )
    @idempotent
    def post(self, request, attempt_id: int):
        attempt = services.attempt_submit(attempt=own_attempt(request, attempt_id))
        return Response(AttemptResultSerializer(selectors.attempt_for_result(attempt)).data)


class AttemptResultApi(APIView):
    """Score, topic breakdown, and each question with the key and explanation, once submitted."""

    @extend_schema(
        operation_id="attempts_result", responses={200: AttemptResultSerializer, **error_responses(401, 404, 409, 429)}
    )
    def get(self, request, attempt_id: int):
        attempt = selectors.attempt_get_for_user(user=request.user, attempt_id=attempt_id)
        if attempt.status == TestAttempt.Status.IN_PROGRESS:
            raise Conflict("Submit the attempt to see its result.", code="attempt_running")
        return Response(AttemptResultSerializer(selectors.attempt_for_result(attempt)).data)


# --- Leaderboards ---------------------------------------------------------------------------------


LeaderboardSerializer = serializer_for(shapes.Leaderboard)
TopicLeaderboardSerializer = serializer_for(shapes.TopicLeaderboard)


class TestLeaderboardApi(APIView):
    """Top 10 of a test (best score per learner) and my rank."""

    @extend_schema(
        operation_id="leaderboards_test", responses={200: LeaderboardSerializer, **error_responses(401, 404, 429)}
    )
    def get(self, request, slug: str):
        board = selectors.leaderboard_for_test(test=selectors.test_get(slug=slug), user=request.user)
        return Response(LeaderboardSerializer(board).data)


TestRankSerializer = serializer_for(shapes.TestRank)


class TestRankApi(APIView):
    """My rank on a test's board ("my rank" of the shared leaderboard page), with ETag/304.

    The ETag is the test's results version (every submit and re-score changes it) with whether its
    results are open, so a 304 costs two Redis reads (the test, the version) and no SQL.
    """

    @extend_schema(
        operation_id="leaderboards_test_me",
        parameters=personal_json_schema(TestRankSerializer)["parameters"],
        responses={**personal_json_schema(TestRankSerializer)["responses"], **error_responses(401, 404, 429)},
    )
    def get(self, request, slug: str):
        test = selectors.test_get(slug=slug)
        version = selectors.rank_version(test=test)  # before the board: a tag never older than the body
        return personal_json(
            request,
            etag=personal_etag(f"rank.{test.pk}", request.user.pk, version),
            build=lambda: TestRankSerializer(selectors.rank_for_test(test=test, user=request.user)).data,
        )


class TopicLeaderboardApi(APIView):
    """This ISO week's top 10 for a topic, and my rank."""

    class FilterSerializer(serializers.Serializer):
        week = serializers.RegexField(r"^\d{4}-W\d{2}$", required=False, help_text="ISO week, e.g. 2026-W48")

        def validate_week(self, week: str) -> str:
            try:
                date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
            except ValueError as exc:
                raise serializers.ValidationError("No such ISO week.") from exc
            return week

    @extend_schema(
        operation_id="leaderboards_topic",
        parameters=[
            OpenApiParameter(
                "week", str, pattern=ISO_WEEK_PATTERN, description="ISO week, e.g. 2026-W48; default this week."
            )
        ],
        responses={200: TopicLeaderboardSerializer, **error_responses(400, 401, 429)},
    )
    def get(self, request, topic: str):
        week = query_params(self.FilterSerializer, request).get("week")
        board = selectors.leaderboard_for_topic(topic=topic, user=request.user, week=week)
        return Response(TopicLeaderboardSerializer(board).data)


# Here, not in accounts: a child's progress reads attempts and enrollments, and accounts sits below courses.
class ParentChildDetailApi(APIView):
    """One linked child's progress: enrollments, recent results, trend, weakest topics."""

    class OutputSerializer(serializer_for(shapes.Progress)):
        pass

    @extend_schema(
        operation_id="parent_child_progress",
        parameters=personal_json_schema(OutputSerializer)["parameters"],
        responses={**personal_json_schema(OutputSerializer)["responses"], **error_responses(401, 404, 429)},
    )
    def get(self, request, student_id: int):
        # The link is checked on every request, 304 too: an unlinked parent gets 404, never a 304.
        child = account_selectors.child_get_for_parent(parent=request.user, student_id=student_id)
        version = selectors.dashboard_version(user=child)  # the child's dashboard data is what it shows
        return personal_json(
            request,
            etag=personal_etag(f"child.{request.user.pk}", child.pk, version),
            build=lambda: self.OutputSerializer(selectors.student_progress(student=child, version=version)).data,
        )
