"""Learner pages: catalog, enrollment, dashboard, notes, practice tests, leaderboards.

Anonymous GETs of the catalog, course and notes pages are cached whole by cerebrum.http_cache, so
those templates carry nothing personal for visitors (no CSRF form: "enroll" links to log-in).

Thin: forms check shape, services write, selectors read and decide access. A service's refusal
(DomainError) becomes a message beside the form or at the top of the page, with nothing saved.
"""

from __future__ import annotations

import functools

import orjson
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorList
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts import selectors as account_selectors
from accounts.forms import form_add_domain_error
from accounts.models import FreeUser
from accounts.services import free_user_capture
from accounts.views import ParentRequiredMixin
from analytics.attribution import first_touch, utm_from_request
from cerebrum.api_tools import error_body
from cerebrum.errors import DomainError, NotFound
from courses import caches, selectors, services
from courses.caches import paper_get
from courses.exam_screen import (
    clock_text,
    exam_shell,
    paper_page,
    screen_values,
    summary_rows,
    summary_section_rows,
    timer_context,
)
from courses.forms import AnswerBatchItemForm, AnswerForm, CatalogFilterForm, FreeTestForm, SubmitForm, TopicWeekForm
from courses.hindi import in_medium
from courses.models import NcertClass, TestAttempt
from courses.scoring import Marking, max_score

# --- Home and catalog -----------------------------------------------------------------------------


class HomeView(TemplateView):
    template_name = "home.html"

    def get_context_data(self, **kwargs) -> dict:
        return {
            **super().get_context_data(**kwargs),
            "featured": list(selectors.course_list(featured=True)[:6]),
            "free_tests": list(selectors.test_list().filter(is_free=True)[:4]),
        }


class CatalogView(TemplateView):
    template_name = "courses/catalog.html"
    shared_query_form = CatalogFilterForm  # cerebrum.http_cache: the only query a shared copy is kept for

    def get_context_data(self, **kwargs) -> dict:
        form = CatalogFilterForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        courses = selectors.course_list(class_level=filters.get("class_level"), type=filters.get("type"))
        return {**super().get_context_data(**kwargs), "form": form, "courses": list(courses)}


class CourseDetailView(TemplateView):
    template_name = "courses/course_detail.html"

    def get_context_data(self, **kwargs) -> dict:
        course = selectors.course_get(slug=kwargs["slug"])
        return {
            **super().get_context_data(**kwargs),
            "course": course,
            "fees": selectors.fees_breakdown(course.fees_paise),
            "syllabus": [line.strip() for line in course.syllabus.splitlines() if line.strip()],
            "free_test": selectors.test_list().filter(is_free=True).first(),
        }


# --- Enrollment -----------------------------------------------------------------------------------


class EnrollView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        course = selectors.course_get(slug=slug)
        try:
            enrollment = services.enrollment_create(user=request.user, course=course, utm=first_touch(request))
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("courses:course_detail", slug=slug)
        return redirect("courses:enrollment", pk=enrollment.pk)


class EnrollmentDetailView(LoginRequiredMixin, TemplateView):
    template_name = "courses/enrollment_detail.html"

    def get_context_data(self, **kwargs) -> dict:
        enrollment = selectors.enrollment_get_for_user(user=self.request.user, enrollment_id=kwargs["pk"])
        return {
            **super().get_context_data(**kwargs),
            "enrollment": enrollment,
            "fees": selectors.fees_breakdown(enrollment.course.fees_paise),
            "checkout_url": _checkout_url(enrollment) if enrollment.user_id == self.request.user.pk else "",
        }


class EnrollmentListView(LoginRequiredMixin, TemplateView):
    template_name = "courses/enrollment_list.html"

    def get_context_data(self, **kwargs) -> dict:
        rows, next_cursor = selectors.enrollment_page_for_user(
            user=self.request.user, cursor=self.request.GET.get("cursor")
        )
        return {**super().get_context_data(**kwargs), "enrollments": rows, "next_cursor": next_cursor}


def _checkout_url(enrollment) -> str:
    """The payments page when it is mounted; until then the page says the payment is pending."""
    if enrollment.status != enrollment.Status.PENDING:
        return ""
    try:
        return reverse("payments:checkout", args=[enrollment.pk])
    except NoReverseMatch:
        return ""


# --- Dashboard ------------------------------------------------------------------------------------


class DashboardView(LoginRequiredMixin, TemplateView):
    template_name = "courses/dashboard.html"

    def get(self, request, *args, **kwargs):
        # A parent has no dashboard of their own: their home is the linked child's progress (issue 19 item 3).
        if request.user.is_parent:
            return redirect("accounts:parent_children")
        with caches.dashboard_page_prefetched(request.user.pk):  # rendered inside: the revision line is a tag
            return super().get(request, *args, **kwargs).render()

    def get_context_data(self, **kwargs) -> dict:
        return {**super().get_context_data(**kwargs), "dashboard": selectors.dashboard_for_user(user=self.request.user)}


# --- Notes ----------------------------------------------------------------------------------------


class NoteTreeView(TemplateView):
    template_name = "courses/notes.html"

    def get_context_data(self, **kwargs) -> dict:
        grade = kwargs.get("grade")
        if grade and grade not in NcertClass.values:
            raise Http404("No such class.")
        tree = selectors.note_tree(grade=grade)
        chapter_slug = kwargs.get("chapter")
        if chapter_slug:
            tree = _only_chapter(tree, chapter_slug)
        return {**super().get_context_data(**kwargs), "tree": tree, "grade": grade, "chapter_slug": chapter_slug}


def _only_chapter(tree: list[dict], chapter_slug: str) -> list[dict]:
    for grade in tree:
        grade["chapters"] = [c for c in grade["chapters"] if c["slug"] == chapter_slug]
    tree = [grade for grade in tree if grade["chapters"]]
    if not tree:
        raise Http404("No such chapter.")
    return tree


class NoteDetailView(TemplateView):
    template_name = "courses/note_detail.html"

    def get_context_data(self, **kwargs) -> dict:
        note = selectors.note_get(slug=kwargs["slug"])
        return {
            **super().get_context_data(**kwargs),
            "note": note,
            "questions": selectors.note_practice_questions(note=note),
        }


# --- Practice tests -------------------------------------------------------------------------------


class TestListView(TemplateView):
    template_name = "courses/test_list.html"

    def get_context_data(self, **kwargs) -> dict:
        return {**super().get_context_data(**kwargs), "tests": list(selectors.test_list()[:50])}


class TestDetailView(TemplateView):
    template_name = "courses/test_detail.html"

    def get_context_data(self, **kwargs) -> dict:
        test = selectors.test_get(slug=kwargs["slug"])
        return {**super().get_context_data(**kwargs), **_test_detail_context(self.request, test, FreeTestForm())}


def _test_detail_context(request: HttpRequest, test, free_form: FreeTestForm) -> dict:
    # Nothing of the learner's: the page is shared (cerebrum.http_cache); a running attempt shows through
    # the page-state JSON, and "Start test" continues it (services.attempt_start).
    return {
        "test": test,
        "question_count": len(paper_get(test)["questions"]),
        "free_form": free_form,
    }


class AttemptStartView(View):
    """POST: start (or continue) the test. Visitors on a free test first leave their name and phone."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        test = selectors.test_get(slug=slug)
        learner = self._learner(request)
        if learner is None:
            return self._free_user_form(request, test)
        return self._start(request, test, learner)

    def _learner(self, request: HttpRequest) -> dict | None:
        if request.user.is_authenticated:
            return {"user": request.user}
        free_user = FreeUser.objects.filter(pk=request.session.get("free_user_id") or 0, user__isnull=True).first()
        return {"free_user": free_user} if free_user else None

    def _free_user_form(self, request: HttpRequest, test) -> HttpResponse:
        form = FreeTestForm(request.POST)
        if not test.is_free:
            return redirect(f"{reverse('accounts:login')}?next={reverse('courses:test_detail', args=[test.slug])}")
        if form.is_valid():
            try:
                free_user = free_user_capture(
                    **form.cleaned_data,
                    utm=utm_from_request(request),
                    session_free_user_id=request.session.get("free_user_id"),  # only this browser's own lead
                )
            except DomainError as error:
                form_add_domain_error(form, error)
            else:
                request.session["free_user_id"] = free_user.pk
                return self._start(request, test, {"free_user": free_user})
        context = _test_detail_context(request, test, form)
        return TemplateResponse(request, TestDetailView.template_name, context, status=400)

    def _start(self, request: HttpRequest, test, learner: dict) -> HttpResponse:
        try:
            attempt = services.attempt_start(test=test, medium=request.POST.get("medium", "en"), **learner)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("courses:test_detail", slug=test.slug)
        return redirect("courses:attempt", pk=attempt.pk)


class AttemptMixin:
    """The attempt in the URL, if this learner (user or the session's free user) may see it."""

    def get_attempt(self, *, owner: bool = False) -> TestAttempt:
        """`owner=True` for writes: a parent or staff may look at an attempt, only its learner may change it."""
        read = selectors.attempt_get_own if owner else selectors.attempt_get_for_user
        return read(
            user=self.request.user, attempt_id=self.kwargs["pk"], free_user_id=self.request.session.get("free_user_id")
        )


class AttemptView(AttemptMixin, View):
    """The NTA exam screen: one question (`?q=N`) or the read-only question paper (`?view=paper`).

    The question comes first and the palette after it (a phone user reaches the options without
    tabbing through 90 palette links; a skip link jumps to the palette). Without JavaScript every
    button posts a plain form; attempt.js takes over when it runs (docs/exam.md). Reads: the attempt
    (Redis), the page shell of its paper version (in process; the paper from its cache on a miss) and
    one query for the clock and the answers, whatever the paper's size.
    """

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        attempt = self.get_attempt()
        if attempt.status != TestAttempt.Status.IN_PROGRESS:
            return redirect("courses:attempt_result", pk=attempt.pk)
        shell = exam_shell(test_id=attempt.test_id, version=attempt.paper_version)
        progress = selectors.attempt_progress(attempt=attempt)
        number = _int(request.GET.get("q"), 1, shell.context["question_count"])
        show_paper = request.GET.get("view") in ("paper", "all")
        urls = {name: _attempt_url(name, attempt.pk) for name in ("answer", "submit", "result")}
        values = screen_values(
            shell,
            progress,
            attempt=attempt,
            number=number,
            view_in=request.GET.get("view_in"),
            show_paper=show_paper,
            script_urls={"answer_url": urls["answer"], "result_url": urls["result"]},
        )
        values.update(_page_values(request, attempt), answer_url=urls["answer"], submit_url=urls["submit"])
        return HttpResponse(paper_page(shell, values, attempt=attempt) if show_paper else shell.fill(values))


@functools.cache
def _attempt_url_format(name: str) -> str:
    """ "/attempts/{}/answer/" for "answer": reversed once per process (three reverse() calls cost the exam
    page ~0.1 ms of CPU); the number stands for any attempt's and appears nowhere else in the path."""
    return reverse(f"courses:attempt_{name}", args=[_ANY_ATTEMPT]).replace(str(_ANY_ATTEMPT), "{}")


_ANY_ATTEMPT = 918273645546372819


def _attempt_url(name: str, pk: int) -> str:
    return _attempt_url_format(name).format(int(pk))


def _page_values(request: HttpRequest, attempt: TestAttempt) -> dict[str, str]:
    """The exam page's values that come from the request: its CSRF token, messages, the test's title."""
    notes = messages.get_messages(request)
    return {
        "title": escape(attempt.test.title),
        "csrf_token": escape(get_token(request)),
        "messages": render_to_string("courses/attempt_messages.html", {"messages": notes}) if notes else "",
    }


def _int(value: str | None, low: int, high: int) -> int:
    try:
        return min(max(int(value or low), low), max(high, low))
    except ValueError:
        return low


class AttemptAnswerView(AttemptMixin, View):
    """POST answers: attempt.js's queued batch as JSON, or one press of a button of the plain form.

    JSON body `{"answers": [AnswerInput, ...]}` → `{"saved", "acknowledged_seq"}` (docs/exam.md); its
    errors are JSON too, including a session that has ended (401), so the page can say so plainly.
    The plain form maps NTA's buttons onto the same service and redirects to the next question.
    """

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.content_type == "application/json":
            return self._batch(request)
        if "application/json" in request.headers.get("Accept", ""):
            return self._single(request)
        attempt = self.get_attempt(owner=True)
        form = AnswerForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Please choose A, B, C or D."))
            return redirect("courses:attempt", pk=attempt.pk)
        try:
            number = _answer_from_form(attempt, form.cleaned_data)
        except DomainError as error:
            return _refused_page(request, attempt, error)
        return HttpResponseRedirect(f"{reverse('courses:attempt', args=[attempt.pk])}?q={number}#question")

    def _batch(self, request: HttpRequest) -> JsonResponse:
        return self._save_json(request, lambda: answer_batch_parse(request.body))

    def _single(self, request: HttpRequest) -> JsonResponse:
        """The previous attempt.js's form post (a page left open across a deploy, and the bench): one item."""
        return self._save_json(request, lambda: [_previous_script_item(request.POST)])

    def _save_json(self, request: HttpRequest, parse) -> JsonResponse:
        try:
            attempt = self.get_attempt(owner=True)
        except NotFound:
            return _json_error(*(_NO_ATTEMPT if _has_learner(request) else _SESSION_ENDED))
        try:
            return JsonResponse(services.attempt_answers_save(attempt=attempt, answers=parse()))
        except DomainError as error:
            return _json_error(error.status, error.code, error.message, error.fields)


def _previous_script_item(data) -> dict:
    """One answer as the previous attempt.js posted it (no seq: stored as the newest so far)."""
    form = AnswerBatchItemForm({**data.dict(), "seq": data.get("seq") or 1})
    if not form.is_valid():
        raise DomainError("Please choose A, B, C or D.", fields=form.errors.get_json_data(escape_html=True))
    return {
        **form.cleaned_data,
        "option": "" if data.get("clear") else form.cleaned_data["option"],
        "seq": form.cleaned_data["seq"] if data.get("seq") else None,
        "time_spent_seconds": form.cleaned_data["time_spent_seconds"] or 0,
    }


_SESSION_ENDED = (401, "session_expired", "Your session has ended. Sign in again: your answers wait on this device.")
_NO_ATTEMPT = (404, "not_found", "No such attempt.")


def _has_learner(request: HttpRequest) -> bool:
    return request.user.is_authenticated or bool(request.session.get("free_user_id"))


def _json_error(status: int, code: str, message: str, fields=None) -> JsonResponse:
    """attempt.js's answers endpoint answers in the API's error shape (cerebrum.api_tools.error_body)."""
    return JsonResponse(error_body(code, message, dict(fields or {})), status=status)


def answer_batch_parse(body: bytes) -> list[dict]:
    """The JSON batch as AnswerInput items; any malformed item refuses the whole batch (nothing saved)."""
    try:
        # orjson, as the API parses: its nesting limit refuses what would exhaust json's recursion (a 500)
        payload = orjson.loads(body or b"null")
        items = payload["answers"]
    except (ValueError, TypeError, KeyError) as error:
        raise DomainError('Send {"answers": [...]}.', fields={"answers": ["Required."]}) from error
    if not isinstance(items, list) or not 1 <= len(items) <= services.MAX_ANSWERS_PER_SAVE:
        raise DomainError("Send 1 to 200 answers at a time.", fields={"answers": ["Wrong number of answers."]})
    parsed = []
    for item in items:
        cleaned, errors = _answer_item_clean(item if isinstance(item, dict) else {})
        if errors:
            raise DomainError("An answer was not understood.", fields=errors)
        parsed.append({**cleaned, "time_spent_seconds": cleaned["time_spent_seconds"] or 0})
    return parsed


def _answer_item_clean(item: dict) -> tuple[dict, dict]:
    """(cleaned data, errors as Form.errors.get_json_data gives them) of one batch item.

    AnswerBatchItemForm's fields run directly, as the form's full_clean would run them: a form per item
    deep-copied its five fields every time, a tenth of an answer request's CPU (the storm's commonest).
    """
    cleaned, errors = {}, {}
    for name, field in AnswerBatchItemForm.base_fields.items():
        try:
            cleaned[name] = field.clean(field.widget.value_from_datadict(item, None, name))
        except ValidationError as error:
            errors[name] = ErrorList(error.error_list).get_json_data(escape_html=True)
    return cleaned, errors


def _answer_from_form(attempt: TestAttempt, data: dict) -> int:
    """Save one plain-form button press the NTA way; returns the question number to show next.

    Save & Next stores the choice (and lifts a review mark), Mark for Review & Next stores it marked,
    Clear Response removes the choice and keeps the mark, Back keeps what was saved (an unsaved
    choice is dropped, as on NTA's screen) and records the visit.
    """
    state = selectors.attempt_state(attempt=attempt)
    order = [question["id"] for question in state["paper"]]
    question_id = data["question_id"]
    if question_id not in order:
        raise DomainError("That question is not in this paper.", fields={"question_id": ["Not in this paper."]})
    saved = state["answers"].get(str(question_id)) or {"option": "", "marked_for_review": False}
    action, Action = data["action"], AnswerForm.Action
    option, marked = {
        Action.SAVE_NEXT: (data["option"], False),
        Action.MARK_NEXT: (data["option"], True),
        Action.CLEAR: ("", saved["marked_for_review"]),
        Action.BACK: (saved["option"], saved["marked_for_review"]),
    }[action]
    item = {"question_id": question_id, "option": option, "marked_for_review": marked, "seq": data["seq"]}
    services.attempt_answers_save(attempt=attempt, answers=[item])
    number = order.index(question_id) + 1
    step = {Action.SAVE_NEXT: 1, Action.MARK_NEXT: 1, Action.CLEAR: 0, Action.BACK: -1}[action]
    return min(max(number + step, 1), len(order))


def _refused_page(request: HttpRequest, attempt: TestAttempt, error: DomainError) -> HttpResponse:
    messages.error(request, error.message)
    if error.code == "attempt_closed":
        # Time is up (or a submit began elsewhere): score it now, or the result page would send an
        # attempt the expiry sweep has not reached yet back to the exam. Submitting twice is harmless.
        services.attempt_submit(attempt=attempt)
        return redirect("courses:attempt_result", pk=attempt.pk)
    return redirect("courses:attempt", pk=attempt.pk)


class AttemptSubmitView(AttemptMixin, TemplateView):
    """GET: NTA's confirmation with the summary (the page without JavaScript). POST with confirm=1: submit.

    attempt.js shows the same summary in a dialog and posts confirm=1 itself; a POST without it
    (an old page, a stray click) only shows the confirmation.
    """

    template_name = "courses/attempt_confirm.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        attempt = self.get_attempt(owner=True)
        if attempt.status != TestAttempt.Status.IN_PROGRESS:
            return redirect("courses:attempt_result", pk=attempt.pk)
        state = selectors.attempt_state(attempt=attempt)
        summary = selectors.attempt_summary(attempt=attempt, state=state)
        context = {
            "attempt": attempt,
            "test": attempt.test,
            "exam": timer_context(state),
            "time_left": clock_text(state["seconds_left"]),
            "summary": summary,
            "summary_rows": summary_rows(summary),
            "section_rows": summary_section_rows(summary),
        }
        return self.render_to_response(context)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        attempt = self.get_attempt(owner=True)
        form = SubmitForm(request.POST)
        if not (form.is_valid() and form.cleaned_data["confirm"]):
            return redirect("courses:attempt_submit", pk=attempt.pk)
        attempt = services.attempt_submit(attempt=attempt)
        return redirect("courses:attempt_result", pk=attempt.pk)


class AttemptResultView(AttemptMixin, TemplateView):
    """Score, sections, topics and (once allowed) solutions, in the order this learner saw them."""

    template_name = "courses/attempt_result.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        attempt = self.get_attempt()
        if attempt.status == TestAttempt.Status.IN_PROGRESS:
            return redirect("courses:attempt", pk=attempt.pk)
        return self.render_to_response(self.get_context_data(attempt=attempt))

    def get_context_data(self, **kwargs) -> dict:
        attempt = selectors.attempt_for_result(kwargs["attempt"])
        solutions_at = selectors.results_open_at(attempt.test)
        questions = selectors.attempt_view(attempt=attempt, reveal=solutions_at is None)
        if attempt.medium == "hi":
            questions = [_solution_in_hindi(question) for question in questions]
        return {
            **super().get_context_data(**kwargs),
            "attempt": attempt,
            "test": attempt.test,
            "questions": questions,
            "solutions_at": solutions_at,
            "max_score": _max_score(attempt, len(questions)),
            "topics": sorted(attempt.topic_breakdown.items()),
            "sections": _section_rows(attempt),
        }


def _solution_in_hindi(question: dict) -> dict:
    """A solution as a Hindi-medium learner reads it: Hindi where the question has it, English elsewhere."""
    text, options = in_medium(question, "hi")
    solution = {**question, "text": text, "options": options}
    if question.get("correct"):
        solution["correct_text"] = options.get(question["correct"], "")
    if question.get("explanation_hi"):
        solution["explanation"] = question["explanation_hi"]
    return solution


def _max_score(attempt: TestAttempt, question_count: int) -> int:
    test = attempt.test
    paper = caches.paper_get_by_id(test_id=test.pk, version=attempt.paper_version)
    marking = Marking(correct=test.marks_correct, wrong=test.marks_wrong, unanswered=test.marks_unanswered)
    return max_score(question_count=question_count, marking=marking, sections=paper.get("sections"))


def _section_rows(attempt: TestAttempt) -> list[tuple[str, dict]]:
    """Per-section results in the paper's order (the JSON column does not keep its keys' order)."""
    breakdown = attempt.section_breakdown or {}
    if len(breakdown) < 2:
        return []
    paper = caches.paper_get_by_id(test_id=attempt.test_id, version=attempt.paper_version)
    names = [section["name"] for section in paper.get("sections", [])]
    return sorted(breakdown.items(), key=lambda item: names.index(item[0]) if item[0] in names else len(names))


# --- Leaderboards ---------------------------------------------------------------------------------


# The top lists are shared pages (cerebrum.http_cache): the learner's own rank comes from `rank_url`'s JSON.


class TestLeaderboardView(TemplateView):
    template_name = "courses/leaderboard.html"

    def get_context_data(self, **kwargs) -> dict:
        test = selectors.test_get(slug=kwargs["slug"])
        return {
            **super().get_context_data(**kwargs),
            "board": selectors.leaderboard_for_test(test=test),
            "title": _("Leaderboard · %(test)s") % {"test": test.title},
            "test": test,
            "rank_url": reverse("courses_api:test_rank", args=[test.slug]),
        }


class TopicLeaderboardView(TemplateView):
    template_name = "courses/leaderboard.html"
    shared_query_form = TopicWeekForm

    def get_context_data(self, **kwargs) -> dict:
        board = selectors.leaderboard_for_topic(topic=kwargs["topic"], week=self.request.GET.get("week"))
        topic = kwargs["topic"].replace("-", " ").capitalize()
        title = _("%(topic)s · week %(week)s") % {"topic": topic, "week": board["week"]}
        rank_url = f"{reverse('courses_api:topic_leaderboard', args=[kwargs['topic']])}?week={board['week']}"
        return {**super().get_context_data(**kwargs), "board": board, "title": title, "rank_url": rank_url}


# --- A parent's view of a child's progress ---------------------------------------------------------

TREND_WIDTH, TREND_HEIGHT, TREND_PAD = 320, 120, 10


class ParentChildView(ParentRequiredMixin, TemplateView):
    """A parent's view of one linked child's progress (here, not in accounts: it reads attempts and
    enrollments, and accounts sits below courses in the dependency order)."""

    template_name = "accounts/parent_child.html"

    def get_context_data(self, **kwargs) -> dict:
        child = account_selectors.child_get_for_parent(parent=self.request.user, student_id=self.kwargs["student_id"])
        progress = selectors.student_progress(student=child)
        return {
            **super().get_context_data(**kwargs),
            "child": child,
            "progress": progress,
            "trend": trend_points(progress["trend"]),
        }


def trend_points(percents: list[float]) -> dict:
    """Coordinates for an inline SVG line of score percentages (oldest first); no JavaScript needed."""
    if not percents:
        return {"points": "", "dots": [], "width": TREND_WIDTH, "height": TREND_HEIGHT}
    step = (TREND_WIDTH - 2 * TREND_PAD) / max(len(percents) - 1, 1)
    usable = TREND_HEIGHT - 2 * TREND_PAD
    dots = [
        {
            "x": round(TREND_PAD + index * step, 1),
            "y": round(TREND_PAD + usable * (1 - min(max(p, 0), 100) / 100), 1),
            "percent": p,
        }
        for index, p in enumerate(percents)
    ]
    return {
        "points": " ".join(f"{dot['x']},{dot['y']}" for dot in dots),
        "dots": dots,
        "width": TREND_WIDTH,
        "height": TREND_HEIGHT,
    }
