"""Staff admin for the catalogue and learning content: courses, enrollments, questions, tests, notes."""

from __future__ import annotations

import csv
import logging

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, F, IntegerField, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from cerebrum.admin_tools import BigTableAdmin, NoLookupRawIdWidget
from cerebrum.errors import DomainError
from cerebrum.task_publish import task_publish
from courses import selectors
from courses import tasks as courses_tasks
from courses.item_analysis import item_analysis_compute
from courses.models import (
    AttemptTimeGrant,
    ChapterNote,
    Course,
    Enrollment,
    PracticeTest,
    PracticeTestQuestion,
    Question,
    QuestionKeyChange,
    QuestionStatistics,
    TestAttempt,
    TestSection,
    TestStatistics,
)
from courses.question_import import (
    ALL_COLUMNS,
    COLUMNS,
    HINDI_COLUMNS,
    QuestionImportInvalid,
    questions_export,
    questions_import,
)
from courses.question_import import FORMATS as EXPORT_FORMATS
from courses.rekey import attempts_rescore
from courses.services import (
    attempt_grant_extra_time,
    enrollment_activate,
    enrollment_create,
    practice_test_bump_paper,
    practice_test_window_keep,
    question_papers_bump,
)

logger = logging.getLogger(__name__)


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "type", "class_level", "fees", "is_active", "is_featured", "start_date")
    list_filter = ("is_active", "class_level", "type", "is_featured")
    search_fields = ("^slug", "name")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at", "updated_at")

    @admin.display(description="Fees (₹)", ordering="fees_paise")
    def fees(self, obj: Course) -> str:
        return f"₹{obj.fees_paise / 100:,.2f}"


class EnrollmentAddForm(forms.ModelForm):
    class Meta:
        model = Enrollment
        fields = ("user", "course")

    def clean_course(self) -> Course:
        # The same refusal enrollment_create gives, shown on the field instead of as an error page.
        course = self.cleaned_data["course"]
        if not course.is_active:
            raise forms.ValidationError("Course is not active.")
        return course


@admin.register(Enrollment)
class EnrollmentAdmin(BigTableAdmin):
    """Staff enroll a learner and activate enrollments through the same services as the site."""

    list_display = ("id", "user", "course", "status", "enrollment_date", "utm_source", "utm_campaign")
    list_select_related = ("user", "course")
    list_filter = ("status", "course")
    search_fields = ("^user__email", "^user__phone")
    autocomplete_fields = ("user", "course")
    actions = ["activate"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = EnrollmentAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ("user", "course") if obj is None else [field.name for field in self.opts.fields]

    def get_readonly_fields(self, request, obj=None):
        # Status only moves through the services' state machine (the activate action, payments).
        return () if obj is None else [field.name for field in self.opts.fields]

    def save_model(self, request, obj, form, change):
        if change:
            return
        enrollment = enrollment_create(user=obj.user, course=obj.course, utm={"utm_source": "admin"})
        obj.pk, obj.status, obj._state.adding = enrollment.pk, enrollment.status, False

    @admin.action(description="Activate the selected enrollments (payment received offline)", permissions=["change"])
    def activate(self, request: HttpRequest, queryset) -> None:
        activated, refused = 0, []
        for enrollment in queryset.order_by("pk"):
            try:
                _, changed = enrollment_activate(enrollment=enrollment)
            except DomainError as exc:
                refused.append(f"#{enrollment.pk}: {exc.message}")
                continue
            activated += changed
        self.message_user(request, f"Activated {activated} enrollments.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not activated: " + " ".join(refused), messages.WARNING)


EXAMPLE_ROW = (
    "11",
    "Biomolecules",
    "Enzymes",
    "MEDIUM",
    "Malonate inhibits succinic dehydrogenase. This is an example of:",
    "Competitive inhibition",
    "Non-competitive inhibition",
    "Feedback inhibition",
    "Allosteric activation",
    "A",
    "Malonate resembles the substrate succinate and competes for the enzyme's active site.",
    # Hindi (optional columns; NCERT Hindi-medium terms)
    "मैलोनेट सक्सिनिक डिहाइड्रोजिनेज का संदमन करता है। यह किसका उदाहरण है?",
    "स्पर्धी संदमन",
    "अस्पर्धी संदमन",
    "पुनर्भरण संदमन",
    "ऐलोस्टेरिक सक्रियण",
    "मैलोनेट की संरचना क्रियाधार सक्सिनेट जैसी होती है और यह एंजाइम के सक्रिय स्थल के लिए स्पर्धा करता है।",
)


class QuestionImportForm(forms.Form):
    file = forms.FileField(
        label="CSV or XLSX file",
        help_text=f"CSV saved as UTF-8, or an Excel workbook (first sheet); a header row with: {', '.join(COLUMNS)}"
        f" (optional, Hindi: {', '.join(HINDI_COLUMNS)}).",
    )


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    change_list_template = "admin/courses/question/change_list.html"
    list_display = (
        "id",
        "ncert_class",
        "chapter",
        "topic",
        "difficulty",
        "short_text",
        "correct_option",
        "is_active",
        "hindi_needs_review",
    )
    # "Hindi needs review": a Hindi field in another script (courses.hindi.hindi_needs_review, docs/hindi.md).
    list_filter = ("ncert_class", "difficulty", "is_active", "hindi_needs_review")
    fieldsets = (
        (None, {"fields": ("ncert_class", "chapter", "topic", "difficulty", "is_active")}),
        (
            "English",
            {"fields": ("text", "option_a", "option_b", "option_c", "option_d", "correct_option", "explanation")},
        ),
        (
            "Hindi (हिन्दी)",
            {
                "fields": (*Question.HINDI_FIELDS, "hindi_needs_review"),
                "description": "Blank fields show in English. Flagged for review when a field holds a script "
                "other than Devanagari, or mostly Latin letters (docs/hindi.md); saved as typed either way.",
            },
        ),
        (None, {"fields": ("created_at", "updated_at")}),
    )
    # topic and chapter lead indexes; text is a scan, acceptable on a table of thousands of rows.
    search_fields = ("^topic", "^chapter", "text")
    readonly_fields = ("created_at", "updated_at", "hindi_needs_review")
    list_per_page = 50
    actions = ["export_csv", "export_xlsx"]

    @admin.display(description="Question")
    def short_text(self, obj: Question) -> str:
        return obj.text[:90]

    def save_model(self, request, obj, form, change):
        new_key = obj.correct_option
        rekey = change and "correct_option" in form.changed_data
        if rekey:
            obj.correct_option = form.initial["correct_option"]  # the key changes through question_rekey
        super().save_model(request, obj, form, change)
        if change:
            # Cached papers and answer keys embed the question: every test that uses it gets a new version.
            question_papers_bump(question_ids=[obj.pk])
        if rekey:
            # Re-scoring a big mock takes minutes: question_rekey runs as a task once this save commits.
            args = (obj.pk, new_key, request.user.pk, "Admin edit")
            transaction.on_commit(lambda: task_publish(courses_tasks.question_rekey, *args, if_unreachable="run_here"))
            self.message_user(
                request,
                f"The key changes to {new_key} and every finished attempt of the tests using this question is "
                "re-scored in the background; the result is listed under Question key changes.",
                messages.SUCCESS,
            )

    def get_urls(self):
        import_view = self.admin_site.admin_view(self.import_view)
        template_view = self.admin_site.admin_view(self.import_template_view)
        export_view = self.admin_site.admin_view(self.export_view)
        return [
            path("import/", import_view, name="courses_question_import"),
            path("import/template.csv", template_view, name="courses_question_import_template"),
            path("export/<str:file_format>/", export_view, name="courses_question_export"),
            *super().get_urls(),
        ]

    def import_template_view(self, request: HttpRequest) -> HttpResponse:
        """A file staff can fill in a spreadsheet: the header and one example row (UTF-8 with BOM, for Excel)."""
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="cerebrum-questions-template.csv"'
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow(ALL_COLUMNS)
        writer.writerow(EXAMPLE_ROW)
        return response

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = QuestionImportForm(request.POST or None, request.FILES or None)
        refusal = None
        if request.method == "POST" and form.is_valid():
            try:
                created = questions_import(upload=form.cleaned_data["file"])
            except QuestionImportInvalid as exc:
                refusal = exc
            else:
                self.message_user(request, f"Imported {len(created)} questions.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:courses_question_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import questions (CSV or XLSX)",
            "form": form,
            "refusal": refusal,
            "row_errors": sorted(refusal.row_errors.items()) if refusal else [],
            "columns": ALL_COLUMNS,
        }
        status = 400 if refusal else 200
        return TemplateResponse(request, "admin/courses/question/import.html", context, status=status)

    def export_view(self, request: HttpRequest, file_format: str) -> HttpResponse:
        """The whole question bank as CSV or XLSX (the "Export selected" actions take a selection)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return _questions_download(self.get_queryset(request), file_format)

    @admin.action(description="Export the selected questions as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset) -> HttpResponse:
        return _questions_download(queryset, "csv")

    @admin.action(description="Export the selected questions as XLSX", permissions=["view"])
    def export_xlsx(self, request: HttpRequest, queryset) -> HttpResponse:
        return _questions_download(queryset, "xlsx")


def _questions_download(queryset, file_format: str) -> HttpResponse:
    if file_format not in EXPORT_FORMATS:
        raise Http404("Export as csv or xlsx.")
    response = HttpResponse(questions_export(queryset=queryset, file_format=file_format))
    response["Content-Type"] = EXPORT_FORMATS[file_format]
    response["Content-Disposition"] = f'attachment; filename="cerebrum-questions.{file_format}"'
    return response


class PracticeTestQuestionInline(admin.TabularInline):
    """The ordered paper. The question is a raw id plus a summary read from one joined query."""

    model = PracticeTestQuestion
    fields = ("position", "section", "question", "question_summary")
    readonly_fields = ("question_summary",)
    raw_id_fields = ("question",)
    ordering = ("position",)
    extra = 1

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("question")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "question":
            kwargs["widget"] = NoLookupRawIdWidget(db_field.remote_field, self.admin_site, using=kwargs.get("using"))
        if db_field.name == "section":
            # Only this test's sections (one query for the whole inline, not one per row).
            test_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = TestSection.objects.filter(test_id=test_id or 0)
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            # A model choice field queries its choices each time a row renders; a list is read once.
            field.choices = list(field.choices)
            return field
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Question")
    def question_summary(self, obj: PracticeTestQuestion) -> str:
        if not obj.pk:
            return ""
        question = obj.question
        return f"[{question.topic} · {question.difficulty}] {question.text[:100]}"


class TestSectionInline(admin.TabularInline):
    """NEET's parts (Physics, Chemistry, Botany, Zoology), optionally "attempt any N"; save, then assign questions."""

    model = TestSection
    fields = ("position", "name", "attempt_any")
    ordering = ("position",)
    extra = 0


class PracticeTestForm(forms.ModelForm):
    def clean_scheduled_start(self):
        """A live mock stays live until its results open: an ordinary test would show them at once."""
        start, test = self.cleaned_data["scheduled_start"], self.instance
        hidden = test.pk and test.scheduled_start and selectors.results_open_at(test) is not None
        if start is None and hidden and TestAttempt.objects.filter(test=test).exists():
            raise forms.ValidationError(
                "Learners have taken this live mock and its results are still hidden: keep a start time until they open."
            )
        return start


@admin.register(PracticeTest)
class PracticeTestAdmin(admin.ModelAdmin):
    form = PracticeTestForm
    list_display = (
        "title",
        "course",
        "grade",
        "question_total",
        "duration_minutes",
        "is_free",
        "is_published",
        "scheduled_start",
        "paper_version",
    )
    list_select_related = ("course",)
    list_filter = ("is_published", "is_free", "grade")
    search_fields = ("^slug", "title")
    autocomplete_fields = ("course",)
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("paper_version", "extra_seconds_max", "results_announced_at", "created_at", "updated_at")
    inlines = [TestSectionInline, PracticeTestQuestionInline]

    actions = ["rescore"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(question_total=Count("paper_items"))

    @admin.action(description="Re-score finished attempts (after changing the marking)", permissions=["change"])
    def rescore(self, request: HttpRequest, queryset) -> None:
        test_ids = sorted(queryset.values_list("pk", flat=True))
        rescored, changed = attempts_rescore(test_ids=test_ids)
        logger.info("tests %s re-scored by %s: %s attempts, %s changed", test_ids, request.user.pk, rescored, changed)
        self.message_user(request, f"Re-scored {rescored} attempts; {changed} scores changed.", messages.SUCCESS)

    @admin.display(description="Questions", ordering="question_total")
    def question_total(self, obj: PracticeTest) -> int:
        return obj.question_total

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and {"scheduled_start", "duration_minutes"} & set(form.changed_data):
            practice_test_window_keep(test=obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if any(formset.has_changed() for formset in formsets):
            # A new version: the next start gets the new paper (frozen at its first build), while
            # running attempts keep the version they started with.
            practice_test_bump_paper(test=form.instance)


@admin.register(TestAttempt)
class TestAttemptAdmin(BigTableAdmin):
    """Attempts are written by the attempt services; staff look, they do not edit."""

    list_display = ("id", "test", "user", "free_user", "status", "score", "started_at", "submitted_at")
    list_select_related = ("test", "user", "free_user")
    list_filter = ("status",)
    search_fields = ("=user__email", "=user__phone", "=free_user__phone")
    autocomplete_fields = ("user", "free_user", "test")
    readonly_fields = (
        "attempt_number",
        "started_at",
        "expires_at",
        "extra_seconds",
        "submitted_at",
        "answers",
        "score",
        "correct_count",
        "wrong_count",
        "unanswered_count",
        "topic_breakdown",
        "paper_version",
        "created_at",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class AttemptTimeGrantForm(forms.ModelForm):
    minutes = forms.IntegerField(min_value=1, max_value=180, help_text="Added to this learner's deadline at once.")

    class Meta:
        model = AttemptTimeGrant
        fields = ("attempt", "minutes", "reason")

    def clean_attempt(self) -> TestAttempt:
        # The service refuses it too (under the row lock); here the refusal shows beside the field.
        attempt = self.cleaned_data["attempt"]
        if attempt.status != TestAttempt.Status.IN_PROGRESS:
            raise forms.ValidationError("This attempt is closed; extra time can only be given while it runs.")
        return attempt


@admin.register(AttemptTimeGrant)
class AttemptTimeGrantAdmin(admin.ModelAdmin):
    """Extra time for one learner: add a grant (attempt, minutes, reason); it goes through the service."""

    form = AttemptTimeGrantForm
    list_display = ("id", "attempt", "seconds", "reason", "granted_by", "created_at")
    list_select_related = ("attempt", "granted_by")
    raw_id_fields = ("attempt",)
    search_fields = ("=attempt__id",)

    def get_fields(self, request, obj=None):
        return ("attempt", "minutes", "reason") if obj is None else ("attempt", "seconds", "reason", "granted_by")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("attempt", "seconds", "reason", "granted_by", "created_at")

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        try:
            attempt_grant_extra_time(
                attempt=form.cleaned_data["attempt"],
                seconds=form.cleaned_data["minutes"] * 60,
                reason=form.cleaned_data["reason"],
                granted_by=request.user,
            )
        except DomainError as exc:
            raise PermissionDenied(exc.message) from exc
        grant = AttemptTimeGrant.objects.filter(attempt=form.cleaned_data["attempt"]).latest("pk")
        obj.pk, obj.seconds, obj._state.adding = grant.pk, grant.seconds, False


@admin.register(ChapterNote)
class ChapterNoteAdmin(admin.ModelAdmin):
    list_display = ("grade", "chapter_number", "chapter", "title", "is_published", "updated_at")
    list_filter = ("curriculum", "grade", "is_published")
    search_fields = ("^slug", "^chapter", "title")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("created_at", "updated_at")
    ordering = ("grade", "chapter_number")


# --- Item analysis (courses/item_analysis.py, docs/item-analysis.md) ---------------------------------


class FacilityFilter(admin.SimpleListFilter):
    """Share of takers who chose the key; under 10 % the key itself is the first suspect."""

    title = "facility"
    parameter_name = "facility"
    BANDS = {
        "lt10": ("Under 10 % (key wrong? too hard?)", Q(facility__lt=0.1)),
        "10-30": ("10–30 % (hard)", Q(facility__gte=0.1, facility__lt=0.3)),
        "30-70": ("30–70 % (the aim)", Q(facility__gte=0.3, facility__lte=0.7)),
        "70-90": ("70–90 % (easy)", Q(facility__gt=0.7, facility__lte=0.9)),
        "gt90": ("Over 90 % (too easy?)", Q(facility__gt=0.9)),
    }

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, _) in self.BANDS.items()]

    def queryset(self, request, queryset):
        band = self.BANDS.get(self.value())
        return queryset.filter(band[1]) if band else queryset


class DiscriminationFilter(admin.SimpleListFilter):
    """Upper-lower 27 % index: negative means the weaker takers did better (a wrong key, an ambiguity)."""

    title = "discrimination"
    parameter_name = "discrimination"
    BANDS = {
        "negative": ("Negative (check the key)", Q(discrimination__lt=0)),
        "weak": ("0–0.2 (weak)", Q(discrimination__gte=0, discrimination__lt=0.2)),
        "fair": ("0.2–0.4 (fair)", Q(discrimination__gte=0.2, discrimination__lt=0.4)),
        "good": ("0.4 and above (good)", Q(discrimination__gte=0.4)),
    }

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, _) in self.BANDS.items()]

    def queryset(self, request, queryset):
        band = self.BANDS.get(self.value())
        return queryset.filter(band[1]) if band else queryset


class DistractorFilter(admin.SimpleListFilter):
    """A wrong option chosen more often than the key: often the key is wrong."""

    title = "options"
    parameter_name = "options"

    def lookups(self, request, model_admin):
        return [("wrong_beats_key", "A wrong option chosen more than the key")]

    def queryset(self, request, queryset):
        if self.value() != "wrong_beats_key":
            return queryset
        chosen = {
            f"chosen_{option}": Coalesce(Cast(KeyTextTransform(option, "option_counts"), IntegerField()), 0)
            for option in "ABCD"
        }
        beats = Q()
        for key in "ABCD":
            for option in "ABCD".replace(key, ""):
                beats |= Q(correct_option=key, **{f"chosen_{option}__gt": F(f"chosen_{key}")})
        return queryset.annotate(**chosen).filter(beats)


def _question_link(question: Question) -> str:
    """The question's change page (to fix its text or key), as "#id text"."""
    url = reverse("admin:courses_question_change", args=[question.pk])
    return format_html('<a href="{}">#{} {}</a>', url, question.pk, question.text[:70])


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(QuestionStatistics)
class QuestionStatisticsAdmin(ReadOnlyAdmin):
    """Staff find bad questions here and open the question (to fix its text or key) from the list."""

    list_display = (
        "question_link",
        "test",
        "position",
        "facility_percent",
        "discrimination_index",
        "options_chosen",
        "average_time",
        "takers",
        "computed_at",
    )
    list_select_related = ("question", "test")
    list_filter = (FacilityFilter, DiscriminationFilter, DistractorFilter, ("test", admin.RelatedOnlyFieldListFilter))
    search_fields = ("=question__id", "^question__topic")
    ordering = ("discrimination", "facility")
    list_per_page = 100
    actions = ["recompute"]

    @admin.display(description="Question", ordering="question_id")
    def question_link(self, obj: QuestionStatistics) -> str:
        return _question_link(obj.question)

    @admin.display(description="Facility", ordering="facility")
    def facility_percent(self, obj: QuestionStatistics) -> str:
        return "—" if obj.facility is None else f"{obj.facility * 100:.0f} %"

    @admin.display(description="Discrimination", ordering="discrimination")
    def discrimination_index(self, obj: QuestionStatistics) -> str:
        return "—" if obj.discrimination is None else f"{obj.discrimination:+.2f}"

    @admin.display(description="Options chosen (key in bold)")
    def options_chosen(self, obj: QuestionStatistics) -> str:
        counts = obj.option_counts or {}
        parts = [
            format_html("<b>{}: {}</b>", option, counts.get(option, 0))
            if option == obj.correct_option
            else format_html("{}: {}", option, counts.get(option, 0))
            for option in "ABCD"
        ]
        parts.append(format_html("blank: {}", counts.get("", 0)))
        return format_html_join(" · ", "{}", ((part,) for part in parts))

    @admin.display(description="Average time", ordering="average_seconds")
    def average_time(self, obj: QuestionStatistics) -> str:
        return "—" if obj.average_seconds is None else f"{obj.average_seconds:.0f} s"

    @admin.action(description="Recompute the statistics of these questions' tests")
    def recompute(self, request: HttpRequest, queryset) -> None:
        test_ids = sorted(set(queryset.values_list("test_id", flat=True)))
        for test_id in test_ids:
            item_analysis_compute(test_id=test_id)
        self.message_user(request, f"Recomputed {len(test_ids)} tests.", messages.SUCCESS)


@admin.register(TestStatistics)
class TestStatisticsAdmin(ReadOnlyAdmin):
    list_display = ("test", "takers", "question_count", "mean_correct_shown", "kr20_shown", "questions", "computed_at")
    list_select_related = ("test",)
    search_fields = ("^test__slug", "test__title")
    ordering = ("-computed_at",)
    actions = ["recompute"]

    @admin.display(description="Mean right (SD)", ordering="mean_correct")
    def mean_correct_shown(self, obj: TestStatistics) -> str:
        if obj.mean_correct is None:
            return "—"
        return f"{obj.mean_correct:.1f} of {obj.question_count} ({obj.sd_correct:.2f})"

    @admin.display(description="KR-20", ordering="kr20")
    def kr20_shown(self, obj: TestStatistics) -> str:
        return "—" if obj.kr20 is None else f"{obj.kr20:.2f}"

    @admin.display(description="Questions")
    def questions(self, obj: TestStatistics) -> str:
        url = reverse("admin:courses_questionstatistics_changelist") + f"?test__id__exact={obj.test_id}"
        return format_html('<a href="{}">Item analysis</a>', url)

    @admin.action(description="Recompute now")
    def recompute(self, request: HttpRequest, queryset) -> None:
        test_ids = sorted(queryset.values_list("test_id", flat=True))
        for test_id in test_ids:
            item_analysis_compute(test_id=test_id)
        self.message_user(request, f"Recomputed {len(test_ids)} tests.", messages.SUCCESS)


@admin.register(QuestionKeyChange)
class QuestionKeyChangeAdmin(ReadOnlyAdmin):
    """The log of key changes: who, when, why, and how many attempts were re-scored."""

    list_display = (
        "created_at",
        "question_link",
        "old_option",
        "new_option",
        "changed_by",
        "attempts_rescored",
        "scores_changed",
        "reason",
    )
    list_select_related = ("question", "changed_by")
    search_fields = ("=question__id",)
    ordering = ("-created_at",)

    @admin.display(description="Question", ordering="question_id")
    def question_link(self, obj: QuestionKeyChange) -> str:
        return _question_link(obj.question)
