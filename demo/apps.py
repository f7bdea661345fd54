from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo and benchmark data: `manage.py seed_demo` and the people and activity it writes.

    The top of the dependency order (docs/architecture.md): it fills every app's tables in bulk (users,
    enrollments, attempts, payments, events) and rebuilds the staff reports' rollups, so nothing imports it.
    The course content it loads is courses' own (courses/management/demo_seed.py, courses/demo/*.yaml).
    """

    name = "demo"
