"""Every write to the courses domain goes through here (pages, API, admin, tasks, commands)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from cerebrum.errors import Conflict, DomainError
from courses.models import Course, Enrollment


@transaction.atomic
def enrollment_create(*, user, course: Course, utm: dict | None = None) -> Enrollment:
    """A PENDING enrollment, or the learner's existing live one (enrolling twice is not an error)."""
    if not course.is_active:
        raise DomainError("This course is not open for enrollment.", fields={"course": ["Course is not active."]})
    existing = Enrollment.objects.filter(user=user, course=course, status__in=Enrollment.LIVE_STATUSES).first()
    if existing:
        return existing
    enrollment = Enrollment(user=user, course=course, **_utm_fields(utm))
    enrollment.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            enrollment.save()
    except IntegrityError:
        # A concurrent request created it between our read and write: the live one wins.
        return Enrollment.objects.get(user=user, course=course, status__in=Enrollment.LIVE_STATUSES)
    return enrollment


@transaction.atomic
def enrollment_activate(*, enrollment: Enrollment) -> tuple[Enrollment, bool]:
    """PENDING → ACTIVE once; returns (enrollment, changed). Safe to call twice or concurrently."""
    locked = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if locked.status == Enrollment.Status.ACTIVE:
        return locked, False
    if locked.status != Enrollment.Status.PENDING:
        raise Conflict(f"Enrollment is {locked.get_status_display().lower()} and cannot be activated.")
    locked.status = Enrollment.Status.ACTIVE
    locked.save(update_fields=["status", "updated_at"])
    return locked, True


def _utm_fields(utm: dict | None) -> dict:
    keys = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
    return {key: str((utm or {}).get(key, ""))[:100] for key in keys}
