from django.urls import path

from practice import apis, views

app_name = "practice"

urlpatterns: list = [
    path("attempts/<int:pk>/analysis/", views.AnalysisView.as_view(), name="analysis"),
    path("me/revision/", views.RevisionView.as_view(), name="revision"),
    path("me/revision/cards/<int:card_id>/rate/", views.ReviewRateView.as_view(), name="review_rate"),
    path("me/notebook/", views.NotebookView.as_view(), name="notebook"),
    path("me/bookmarks/<int:question_id>/", views.BookmarkView.as_view(), name="bookmark"),
]

api_urlpatterns: list = [
    path("attempts/<int:attempt_id>/analysis", apis.AttemptAnalysisApi.as_view(), name="attempt_analysis"),
    path("me/bookmarks", apis.BookmarkListApi.as_view(), name="bookmark_list"),
    path("me/bookmarks/<int:question_id>", apis.BookmarkDetailApi.as_view(), name="bookmark_detail"),
    path("me/notebook", apis.NotebookApi.as_view(), name="notebook"),
    path("me/revision", apis.RevisionApi.as_view(), name="revision"),
    path("me/revision/daily", apis.DailySetApi.as_view(), name="revision_daily"),
    path("me/revision/cards/<int:card_id>/rating", apis.ReviewRateApi.as_view(), name="revision_rate"),
]
