from django.contrib import admin

from practice.models import Bookmark, MistakeEntry, RankBand, ReviewCard, ReviewLog


@admin.register(RankBand)
class RankBandAdmin(admin.ModelAdmin):
    """Past NEET (UG) percentile → all-India rank figures that the estimated rank band is read from."""

    list_display = ["year", "percentile_min", "percentile_max", "marks_min", "marks_max", "rank_best", "rank_worst"]
    list_filter = ["year"]
    ordering = ["-year", "-percentile_max"]


@admin.register(Bookmark)
class BookmarkAdmin(admin.ModelAdmin):
    list_display = ["user", "question", "created_at"]
    list_select_related = ["user", "question"]
    raw_id_fields = ["user", "question"]
    search_fields = ["user__email"]


@admin.register(MistakeEntry)
class MistakeEntryAdmin(admin.ModelAdmin):
    list_display = ["user", "question", "test", "chosen_option", "correct_option", "created_at"]
    list_select_related = ["user", "question", "test"]
    raw_id_fields = ["user", "question", "attempt", "test"]
    search_fields = ["user__email"]


@admin.register(ReviewCard)
class ReviewCardAdmin(admin.ModelAdmin):
    list_display = ["user", "question", "source", "due", "reviews"]
    list_select_related = ["user", "question"]
    list_filter = ["source"]
    raw_id_fields = ["user", "question", "test"]
    search_fields = ["user__email"]
    readonly_fields = ["card", "due", "reviews"]


@admin.register(ReviewLog)
class ReviewLogAdmin(admin.ModelAdmin):
    list_display = ["card", "user", "rating", "due_before", "due_after", "reviewed_at"]
    list_select_related = ["card", "user"]
    raw_id_fields = ["card", "user"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # append-only
