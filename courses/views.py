"""Learner pages: catalog, enrollment, dashboard, notes, practice tests, leaderboards.

Anonymous GETs of the catalog, course and notes pages are cached whole by cerebrum.http_cache, so
those templates carry nothing personal for visitors (no CSRF form: "enroll" links to log-in).

Thin: forms check shape, services write, selectors read and decide access. A service's refusal
(DomainError) becomes a message beside the form or at the top of the page, with nothing saved.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.views import View
from django.views.generic import TemplateView

from accounts.forms import form_add_domain_error
from accounts.models import FreeUser
from accounts.services import free_user_capture
from analytics.attribution import first_touch, utm_from_request
from cerebrum.errors import DomainError, NotFound
from courses import selectors, services
from courses.caches import paper_get
from courses.forms import AnswerForm, CatalogFilterForm, FreeTestForm
from courses.models import NcertClass, TestAttempt


class NotFoundMixin:
    """A selector's NotFound (someone else's object, or none) is a plain 404 page."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return super().dispatch(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from error


# --- Home and catalog -----------------------------------------------------------------------------


class HomeView(NotFoundMixin, TemplateView):
    template_name = "home.html"

    def get_context_data(self, **kwargs) -> dict:
        return {
            **super().get_context_data(**kwargs),
            "featured": list(selectors.course_list(featured=True)[:6]),
            "free_tests": list(selectors.test_list().filter(is_free=True)[:4]),
        }


class CatalogView(NotFoundMixin, TemplateView):
    template_name = "courses/catalog.html"

    def get_context_data(self, **kwargs) -> dict:
        form = CatalogFilterForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        courses = selectors.course_list(class_level=filters.get("class_level"), type=filters.get("type"))
        return {**super().get_context_data(**kwargs), "form": form, "courses": list(courses)}


class CourseDetailView(NotFoundMixin, TemplateView):
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


class EnrollView(LoginRequiredMixin, NotFoundMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        course = selectors.course_get(slug=slug)
        try:
            enrollment = services.enrollment_create(user=request.user, course=course, utm=first_touch(request))
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("courses:course_detail", slug=slug)
        return redirect("courses:enrollment", pk=enrollment.pk)


class EnrollmentDetailView(LoginRequiredMixin, NotFoundMixin, TemplateView):
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

    def get_context_data(self, **kwargs) -> dict:
        return {**super().get_context_data(**kwargs), "dashboard": selectors.dashboard_for_user(user=self.request.user)}


# --- Notes ----------------------------------------------------------------------------------------


class NoteTreeView(NotFoundMixin, TemplateView):
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


class NoteDetailView(NotFoundMixin, TemplateView):
    template_name = "courses/note_detail.html"

    def get_context_data(self, **kwargs) -> dict:
        note = selectors.note_get(slug=kwargs["slug"])
        return {
            **super().get_context_data(**kwargs),
            "note": note,
            "questions": selectors.note_practice_questions(note=note),
        }


# --- Practice tests -------------------------------------------------------------------------------


class TestListView(NotFoundMixin, TemplateView):
    template_name = "courses/test_list.html"

    def get_context_data(self, **kwargs) -> dict:
        return {**super().get_context_data(**kwargs), "tests": list(selectors.test_list()[:50])}


class TestDetailView(NotFoundMixin, TemplateView):
    template_name = "courses/test_detail.html"

    def get_context_data(self, **kwargs) -> dict:
        test = selectors.test_get(slug=kwargs["slug"])
        return {**super().get_context_data(**kwargs), **_test_detail_context(self.request, test, FreeTestForm())}


def _test_detail_context(request: HttpRequest, test, free_form: FreeTestForm) -> dict:
    running = selectors.attempt_for_learner(
        test=test, user=request.user, free_user_id=request.session.get("free_user_id")
    )
    return {
        "test": test,
        "running": running,
        "question_count": len(paper_get(test)["questions"]),
        "free_form": free_form,
    }


class AttemptStartView(NotFoundMixin, View):
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
            attempt = services.attempt_start(test=test, **learner)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("courses:test_detail", slug=test.slug)
        return redirect("courses:attempt", pk=attempt.pk)


class AttemptMixin(NotFoundMixin):
    """The attempt in the URL, if this learner (user or the session's free user) may see it."""

    def get_attempt(self, *, owner: bool = False) -> TestAttempt:
        """`owner=True` for writes: a parent or staff may look at an attempt, only its learner may change it."""
        free_user_id = self.request.session.get("free_user_id")
        attempt = selectors.attempt_get_for_user(
            user=self.request.user, attempt_id=self.kwargs["pk"], free_user_id=free_user_id
        )
        is_learner = (attempt.user_id and attempt.user_id == self.request.user.pk) or (
            attempt.free_user_id and attempt.free_user_id == free_user_id
        )
        if owner and not is_learner:
            raise Http404("No such attempt.")
        return attempt


class AttemptView(AttemptMixin, TemplateView):
    """The exam page: palette of all questions, one question at a time (or all with ?view=all)."""

    template_name = "courses/attempt.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        attempt = self.get_attempt()
        if attempt.status != TestAttempt.Status.IN_PROGRESS:
            return redirect("courses:attempt_result", pk=attempt.pk)
        return self.render_to_response(self.get_context_data(attempt=attempt))

    def get_context_data(self, **kwargs) -> dict:
        attempt = kwargs["attempt"]
        questions = selectors.attempt_view(attempt=attempt)
        show_all = self.request.GET.get("view") == "all"
        number = _int(self.request.GET.get("q"), 1, len(questions))
        return {
            **super().get_context_data(**kwargs),
            "test": attempt.test,
            "questions": questions,
            "shown": questions if show_all else questions[number - 1 : number],
            "show_all": show_all,
            "number": number,
            "seconds_left": selectors.seconds_left(attempt),
            "answered": sum(1 for q in questions if q["chosen"]),
            "marked": sum(1 for q in questions if q["marked"]),
        }


def _int(value: str | None, low: int, high: int) -> int:
    try:
        return min(max(int(value or low), low), max(high, low))
    except ValueError:
        return low


class AttemptAnswerView(AttemptMixin, View):
    """POST one answer: JSON for attempt.js's fetch, a redirect back for the plain form."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        attempt = self.get_attempt(owner=True)
        form = AnswerForm(request.POST)
        wants_json = "application/json" in request.headers.get("Accept", "")
        if not form.is_valid():
            return _answer_refused(request, attempt, wants_json, "Please choose A, B, C or D.", form.errors)
        data = form.cleaned_data
        try:
            services.attempt_answer(
                attempt=attempt,
                question_id=data["question_id"],
                option="" if data["clear"] else data["option"],
                marked_for_review=data["marked_for_review"],
            )
        except DomainError as error:
            return _answer_refused(request, attempt, wants_json, error.message, error.fields, status=error.status)
        if wants_json:
            return JsonResponse({"saved": True, "question_id": data["question_id"], "option": data["option"]})
        target = reverse("courses:attempt", args=[attempt.pk])
        return HttpResponseRedirect(f"{target}?q={data['next']}" if data["next"] else target)


def _answer_refused(request, attempt, wants_json: bool, message: str, fields, status: int = 400) -> HttpResponse:
    if wants_json:
        body = {"error": {"code": "invalid", "message": message, "fields": dict(fields or {})}}
        return JsonResponse(body, status=status)
    messages.error(request, message)
    return redirect("courses:attempt", pk=attempt.pk)


class AttemptSubmitView(AttemptMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        attempt = services.attempt_submit(attempt=self.get_attempt(owner=True))
        return redirect("courses:attempt_result", pk=attempt.pk)


class AttemptResultView(AttemptMixin, TemplateView):
    template_name = "courses/attempt_result.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        attempt = self.get_attempt()
        if attempt.status == TestAttempt.Status.IN_PROGRESS:
            return redirect("courses:attempt", pk=attempt.pk)
        return self.render_to_response(self.get_context_data(attempt=attempt))

    def get_context_data(self, **kwargs) -> dict:
        attempt = kwargs["attempt"]
        solutions_at = selectors.solutions_open_at(attempt.test)
        questions = selectors.attempt_view(attempt=attempt, reveal=solutions_at is None)
        return {
            **super().get_context_data(**kwargs),
            "test": attempt.test,
            "questions": questions,
            "solutions_at": solutions_at,
            "max_score": len(questions) * attempt.test.marks_correct,
            "topics": sorted(attempt.topic_breakdown.items()),
        }


# --- Leaderboards ---------------------------------------------------------------------------------


class TestLeaderboardView(NotFoundMixin, TemplateView):
    template_name = "courses/leaderboard.html"

    def get_context_data(self, **kwargs) -> dict:
        test = selectors.test_get(slug=kwargs["slug"])
        board = selectors.leaderboard_for_test(test=test, user=self.request.user)
        return {
            **super().get_context_data(**kwargs),
            "board": board,
            "title": f"Leaderboard · {test.title}",
            "test": test,
        }


class TopicLeaderboardView(NotFoundMixin, TemplateView):
    template_name = "courses/leaderboard.html"

    def get_context_data(self, **kwargs) -> dict:
        try:
            board = selectors.leaderboard_for_topic(
                topic=kwargs["topic"], user=self.request.user, week=self.request.GET.get("week")
            )
        except DomainError as error:
            raise Http404(error.message) from error
        title = f"{kwargs['topic'].replace('-', ' ').capitalize()} · week {board['week']}"
        return {**super().get_context_data(**kwargs), "board": board, "title": title}
