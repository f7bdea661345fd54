from django.urls import path  # noqa: F401

from courses import apis, views

app_name = "courses"

# Pages.
urlpatterns: list = [
    path("", views.HomeView.as_view(), name="home"),
    path("courses/", views.CatalogView.as_view(), name="catalog"),
    path("courses/<slug:slug>/", views.CourseDetailView.as_view(), name="course_detail"),
    path("courses/<slug:slug>/enroll/", views.EnrollView.as_view(), name="enroll"),
    path("me/enrollments/", views.EnrollmentListView.as_view(), name="enrollments"),
    path("me/enrollments/<int:pk>/", views.EnrollmentDetailView.as_view(), name="enrollment"),
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("notes/", views.NoteTreeView.as_view(), name="notes"),
    path("notes/read/<slug:slug>/", views.NoteDetailView.as_view(), name="note_detail"),
    path("notes/<str:grade>/", views.NoteTreeView.as_view(), name="notes_grade"),
    path("notes/<str:grade>/<slug:chapter>/", views.NoteTreeView.as_view(), name="notes_chapter"),
    path("tests/", views.TestListView.as_view(), name="tests"),
    path("tests/<slug:slug>/", views.TestDetailView.as_view(), name="test_detail"),
    path("tests/<slug:slug>/start/", views.AttemptStartView.as_view(), name="test_start"),
    path("tests/<slug:slug>/leaderboard/", views.TestLeaderboardView.as_view(), name="leaderboard"),
    path("attempts/<int:pk>/", views.AttemptView.as_view(), name="attempt"),
    path("attempts/<int:pk>/answer/", views.AttemptAnswerView.as_view(), name="attempt_answer"),
    path("attempts/<int:pk>/submit/", views.AttemptSubmitView.as_view(), name="attempt_submit"),
    path("attempts/<int:pk>/result/", views.AttemptResultView.as_view(), name="attempt_result"),
    path("leaderboards/topics/<slug:topic>/", views.TopicLeaderboardView.as_view(), name="topic_leaderboard"),
    # A parent's view of a child: under /accounts/ beside the parent's home (accounts' parent_children).
    path("accounts/parent/children/<int:student_id>/", views.ParentChildView.as_view(), name="parent_child"),
]

# REST API, mounted under /api/v1/.
api_urlpatterns: list = [
    path("courses", apis.CourseListApi.as_view(), name="course_list"),
    path("courses/<slug:slug>", apis.CourseDetailApi.as_view(), name="course_detail"),
    path("enrollments", apis.EnrollmentListApi.as_view(), name="enrollment_list"),
    path("enrollments/<int:enrollment_id>", apis.EnrollmentDetailApi.as_view(), name="enrollment_detail"),
    path("dashboard", apis.DashboardApi.as_view(), name="dashboard"),
    path("me/page-state", apis.PageStateApi.as_view(), name="page_state"),
    path("notes", apis.NoteListApi.as_view(), name="note_list"),
    path("notes/<slug:slug>", apis.NoteDetailApi.as_view(), name="note_detail"),
    path("tests", apis.TestListApi.as_view(), name="test_list"),
    path("tests/<slug:slug>", apis.TestDetailApi.as_view(), name="test_detail"),
    path("tests/<slug:slug>/attempts", apis.AttemptStartApi.as_view(), name="attempt_start"),
    path("tests/<slug:slug>/leaderboard", apis.TestLeaderboardApi.as_view(), name="test_leaderboard"),
    path("tests/<slug:slug>/leaderboard/me", apis.TestRankApi.as_view(), name="test_rank"),
    path("attempts/<int:attempt_id>", apis.AttemptDetailApi.as_view(), name="attempt_detail"),
    path("attempts/<int:attempt_id>/answers", apis.AttemptAnswerApi.as_view(), name="attempt_answer"),
    path("attempts/<int:attempt_id>/submit", apis.AttemptSubmitApi.as_view(), name="attempt_submit"),
    path("attempts/<int:attempt_id>/result", apis.AttemptResultApi.as_view(), name="attempt_result"),
    path("leaderboards/topics/<slug:topic>", apis.TopicLeaderboardApi.as_view(), name="topic_leaderboard"),
    path("parent/children/<int:student_id>", apis.ParentChildDetailApi.as_view(), name="parent-child"),
]
