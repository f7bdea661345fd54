"""Every write to the courses domain goes through here (pages, API, admin, tasks, commands)."""

from __future__ import annotations

import itertools
import random
import struct
from datetime import timedelta
from typing import TypedDict

from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from analytics.attribution import touches_for_user
from analytics.services import event_record
from cerebrum.db_router import primary_reads
from cerebrum.errors import Conflict, DomainError, NotFound
from cerebrum.models import UTM_KEYS
from cerebrum.prepared import PreparedInsert, PreparedQuery, PreparedUpdate, model_columns, model_from_row
from communications.services import message_enqueue
from courses import caches, selectors
from courses.hindi import medium_or_default
from courses.models import (
    AttemptAnswer,
    AttemptTimeGrant,
    Course,
    Enrollment,
    PracticeTest,
    PracticeTestQuestion,
    TestAttempt,
)
from courses.scoring import OPTIONS, Marking, score_answers, sections_in_learner_order

# Slack for a slow phone network: an answer or submit arriving this late after the clock ran out still counts.
SUBMIT_GRACE = timedelta(seconds=30)
# Callables (attempts: a list of scored attempts) run inside the submit transaction after scoring,
# registered by higher apps in their AppConfig.ready() (practice: wrong answers to the mistake notebook);
# courses imports none of them. A live mock's attempts run them once, in live_results_announce
# (_hooks_wait_for_announce), ANNOUNCE_CHUNK attempts a call: a constant number of statements per chunk.
after_submit_hooks: list = []
ANNOUNCE_CHUNK = 500
EXPIRE_BATCH_SIZE = 200
PREWARM_WINDOW = timedelta(minutes=10)


# --- Leads ---------------------------------------------------------------------------------------


def free_user_attempts_adopt(*, free_user, user) -> list[int]:
    """A lead's attempts become the account's it turned into; returns their ids.

    Runs inside accounts' `user_register` (its `lead_adopted_hooks`, registered in CoursesConfig.ready),
    after the lead row is locked and linked; the check constraint needs exactly one owner per attempt.
    Their finished scores now rank (PostgreSQL's boards count a user's attempts): the boards they belong
    on are rebuilt at their next read, as after a live mock's results open.
    """
    rows = list(
        TestAttempt.objects.filter(free_user=free_user).values_list("pk", "test_id", "submitted_at", "topic_breakdown")
    )
    TestAttempt.objects.filter(free_user=free_user).update(user=user, free_user=None)
    moved, tests, boards = [row[0] for row in rows], sorted({row[1] for row in rows}), set()
    for _attempt_id, test_id, submitted_at, breakdown in rows:
        boards.add(caches.test_board_key(test_id))
        if submitted_at:  # finished: its marks count in its week's topic boards
            week = caches.iso_week(timezone.localdate(submitted_at))
            boards.update(caches.topic_board_key(slugify(topic), week) for topic in breakdown or {})
    transaction.on_commit(lambda: caches.attempts_forget(moved))  # their cached copies name the old owner
    transaction.on_commit(lambda: caches.boards_rebuild_later(sorted(boards)))
    transaction.on_commit(lambda: caches.test_results_bump(tests))  # "my rank" ETags: the boards grew
    return moved


# --- Enrollments --------------------------------------------------------------------------------


@transaction.atomic
def enrollment_create(*, user, course: Course, utm: dict | None = None) -> Enrollment:
    """A PENDING enrollment, or the learner's existing live one (enrolling twice is not an error)."""
    if not course.is_active:
        raise DomainError(_("This course is not open for enrollment."), fields={"course": ["Course is not active."]})
    existing = Enrollment.objects.filter(user=user, course=course, status__in=Enrollment.LIVE_STATUSES).first()
    if existing:
        return existing
    # Attribution follows the learner (any device): the utm columns are their first touch when one
    # is recorded, else what the caller saw on this device (issue 22).
    touches = touches_for_user(user_id=user.pk)
    utm = touches["first"] or utm
    enrollment = Enrollment(
        user=user, course=course, first_touch=touches["first"], last_touch=touches["last"], **_utm_fields(utm)
    )
    enrollment.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            enrollment.save()
    except IntegrityError:
        # A concurrent request created it between our read and write: the live one wins.
        return Enrollment.objects.get(user=user, course=course, status__in=Enrollment.LIVE_STATUSES)
    event_record(
        event_type="ENROLLMENT",
        name="enrollment_created",
        user=user,
        properties={"enrollment_id": enrollment.pk, "course_id": course.pk, "fees_paise": course.fees_paise},
        utm=utm,
    )
    transaction.on_commit(lambda: caches.dashboard_invalidate(user.pk))
    return enrollment


@transaction.atomic
def enrollment_activate(*, enrollment: Enrollment) -> tuple[Enrollment, bool]:
    """PENDING → ACTIVE once; returns (enrollment, changed). Safe to call twice or concurrently."""
    locked = Enrollment.objects.select_for_update(of=("self",)).select_related("user", "course").get(pk=enrollment.pk)
    if locked.status == Enrollment.Status.ACTIVE:
        return locked, False
    if locked.status != Enrollment.Status.PENDING:
        raise Conflict(f"Enrollment is {locked.get_status_display().lower()} and cannot be activated.")
    locked.status = Enrollment.Status.ACTIVE
    locked.save(update_fields=["status", "updated_at"])
    message_enqueue(
        template="enrollment_confirmed",
        context={"name": locked.user.name, "course": locked.course.name, "enrollment_id": locked.pk},
        idempotency_key=f"enrollment_confirmed:{locked.pk}",
        user=locked.user,
    )
    transaction.on_commit(lambda: caches.dashboard_invalidate(locked.user_id))
    return locked, True


# --- Tests and attempts ---------------------------------------------------------------------------


@transaction.atomic
def practice_test_bump_paper(*, test: PracticeTest) -> PracticeTest:
    """Call after changing a test's questions: the next read builds a new paper under a new key."""
    # save(), not queryset.update(): cacheops invalidates cached test reads only on save.
    locked = PracticeTest.objects.select_for_update().get(pk=test.pk)
    locked.paper_version += 1
    locked.save(update_fields=["paper_version", "updated_at"])
    test.paper_version, test.updated_at = locked.paper_version, locked.updated_at
    return test


@transaction.atomic
def practice_test_window_keep(*, test: PracticeTest) -> PracticeTest:
    """Call after editing a test's start or duration: a live mock's results stay hidden until every
    attempt already started has ended (their deadlines do not move with the edit; docs/exam.md).

    A shorter duration or an earlier start would otherwise open the results (and the key) while
    those learners still write: `extra_seconds_max` grows to cover the latest deadline.
    """
    locked = PracticeTest.objects.select_for_update().get(pk=test.pk)
    latest = TestAttempt.objects.filter(test=locked).aggregate(latest=Max("expires_at"))["latest"]
    if locked.scheduled_start is None or latest is None:
        return test
    window_end = locked.scheduled_start + timedelta(minutes=locked.duration_minutes)
    overrun = int((latest - window_end).total_seconds())
    if overrun > locked.extra_seconds_max:
        locked.extra_seconds_max = test.extra_seconds_max = overrun
        locked.save(update_fields=["extra_seconds_max", "updated_at"])
    return test


@transaction.atomic
def question_papers_bump(*, question_ids: list[int]) -> int:
    """After editing questions (text, options, key): every test that uses them gets a new paper version."""
    test_ids = sorted(
        set(PracticeTestQuestion.objects.filter(question_id__in=question_ids).values_list("test_id", flat=True))
    )
    for test_id in test_ids:  # primary-key order, like every multi-row lock here
        practice_test_bump_paper(test=PracticeTest(pk=test_id))
    return len(test_ids)


def attempt_start(*, test: PracticeTest, user=None, free_user=None, medium: str = "en") -> TestAttempt:
    """The learner's running attempt, or a new one: one SELECT and one INSERT, the paper from the cache.

    Two tabs, a double click or a client retry get the same IN_PROGRESS attempt back (in the medium it
    started in). `medium` is "en" or "hi" (courses.hindi.MEDIUMS; anything else is English).
    """
    try:
        return _attempt_start(test=test, user=user, free_user=free_user, medium=medium)
    except IntegrityError:
        # The same learner started in another tab at the same instant (the one-running-attempt unique
        # index refused our INSERT): theirs is ours. A start runs in autocommit, no transaction around
        # its SELECT and INSERT (each is atomic; the index, not a transaction, stops the race): four
        # statements fewer than a savepoint in a transaction on every start of a storm.
        learner = {"user": user} if user is not None and user.is_authenticated else {"free_user": free_user}
        existing = TestAttempt.objects.filter(test=test, status=TestAttempt.Status.IN_PROGRESS, **learner).first()
        if existing is None:
            raise Conflict(_("Another start of this test is in progress; try again."), code="attempt_race") from None
        return existing


def _attempt_start(*, test: PracticeTest, user, free_user, medium: str) -> TestAttempt:
    user = user if user is not None and user.is_authenticated else None
    if (user is None) == (free_user is None):
        raise DomainError(_("Sign in or give your name and phone number to take a test."), code="login_required")
    _check_test_access(test=test, user=user, free_user=free_user)
    now = timezone.now()
    starts_at = test.scheduled_start or now
    if starts_at > now:
        raise Conflict(_("This test has not started yet."), code="not_started")
    expires_at = starts_at + timedelta(minutes=test.duration_minutes)
    if expires_at <= now:
        raise Conflict(_("This scheduled test is over."), code="test_over")
    learner = {"user": user} if user else {"free_user": free_user}
    running, used = _running_attempt(test=test, learner=learner, now=now)
    if running:
        return running
    paper = caches.paper_get(test)
    order = learner_order(paper=paper, seed=_order_seed(test, learner)) if test.shuffle else paper_order(paper)
    return _attempt_insert(
        test=test,
        learner=learner,
        number=used + 1,
        now=now,
        expires_at=expires_at,
        order=order,
        medium=medium_or_default(medium),
    )


def learner_order(*, paper: dict, seed: str) -> tuple[list[int], dict[str, str]]:
    """(question ids, {question id: canonical letters in the order shown}) for one learner.

    Seeded, so the same learner and paper version always get the same order; questions move only
    within their section (NEET's sections stay in place), options within their question. The random
    draws come as one block of bytes per section and one for the options (random.shuffle drew per
    item in Python, 0.3 ms of every start of a 180-question mock).
    """
    rng = random.Random(seed)  # noqa: S311 - an exam order, not a secret
    question_ids: list[int] = []
    for section in paper["sections"]:
        ids = section["question_ids"]
        keys = struct.unpack(f"<{len(ids)}I", rng.randbytes(4 * len(ids)))
        question_ids.extend(question_id for _, question_id in sorted(zip(keys, ids, strict=True)))
    # One of the 24 orders of A-D per question; 65,536 draws over 24 orders favour 16 of them by 1 in 2,730.
    draws = struct.unpack(f"<{len(question_ids)}H", rng.randbytes(2 * len(question_ids)))
    option_orders = {
        str(question_id): _OPTION_ORDERS[draw % 24] for question_id, draw in zip(question_ids, draws, strict=True)
    }
    return question_ids, option_orders


_OPTION_ORDERS = ["".join(letters) for letters in itertools.permutations(OPTIONS)]


def paper_order(paper: dict) -> tuple[list[int], dict[str, str]]:
    """(question ids in the paper's order, no option orders): what an attempt of an unshuffled test stores.

    Stored with the attempt, the numbering a learner sees (Q1..QN, the palette, the result) comes from
    the attempt's row in PostgreSQL on every load, not from the order of whatever paper blob a cache
    returns (issue 15: a mid-exam reload showed Q1 third; docs/exam.md, "Numbering").
    """
    return [question["id"] for question in paper["questions"]], {}


def _order_seed(test: PracticeTest, learner: dict) -> str:
    who = f"user:{learner['user'].pk}" if "user" in learner else f"free:{learner['free_user'].pk}"
    return f"{test.pk}:v{test.paper_version}:{who}"


class AnswerInput(TypedDict, total=False):
    """One answer as a client sends it (docs/exam.md): `option` is the letter as the learner saw it."""

    question_id: int
    option: str  # "A".."D" in the learner's order, "" clears
    marked_for_review: bool
    seq: int | None  # per attempt, increasing on the client; None: "newer than anything so far"
    time_spent_seconds: int


MAX_ANSWERS_PER_SAVE = 200
# The highest client seq accepted: attempt_answers.seq is a PostgreSQL integer (2**31 - 1), and a save
# without seq stores "last + n" (n <= MAX_ANSWERS_PER_SAVE), which must still fit.
MAX_SEQ = 2_000_000_000


def attempt_answers_save(*, attempt: TestAttempt, answers: list[AnswerInput]) -> dict:
    """Store a batch of answers in PostgreSQL, the store of record: per question the highest `seq` wins.

    One statement: it takes a share lock on the attempt row only while the attempt is IN_PROGRESS and
    inside its deadline (+ SUBMIT_GRACE), and upserts every item under it. attempt_submit takes the
    row's FOR UPDATE lock before reading the answers, so an answer either committed before the
    scoring read (and is scored) or finds the attempt closed (409 `attempt_closed`): never in between.
    An equal or lower seq is ignored (retries, out-of-order delivery). `time_spent_seconds` is added to
    the question's total, capped so the attempt's total stays within the server's elapsed time.
    Returns {"saved": rows written, "acknowledged_seq": the highest seq stored for the attempt}.
    """
    items = _answer_items(attempt, answers)
    now = timezone.now()
    opened, saved, last_seq = _answers_upsert(attempt_id=attempt.pk, items=items, now=now)
    if not opened:
        raise Conflict(_("This attempt is closed: it was submitted or its time is up."), code="attempt_closed")
    return {"saved": saved, "acknowledged_seq": last_seq}


def attempt_answer(*, attempt: TestAttempt, question_id: int, option: str | None, marked_for_review: bool = False):
    """One answer without a client seq (the old API body, plain forms): stored as the newest."""
    item = {"question_id": question_id, "option": option or "", "marked_for_review": marked_for_review, "seq": None}
    return attempt_answers_save(attempt=attempt, answers=[item])


@transaction.atomic
def attempt_submit(*, attempt: TestAttempt) -> TestAttempt:
    """Score the attempt once. A second submit (two tabs, retry, the expiry sweep) returns it unchanged.

    The row lock is taken before the answers are read: answers saved before it are scored, and any
    answer after it waits for this transaction and then finds the attempt closed.
    """
    locked = _attempt_lock(attempt.pk)
    if locked.status != TestAttempt.Status.IN_PROGRESS:
        return locked
    now = timezone.now()
    overdue = now > locked.expires_at + SUBMIT_GRACE
    locked.answers = attempt_answers(locked)[0]
    _apply_score(locked)
    locked.status = TestAttempt.Status.EXPIRED if overdue else TestAttempt.Status.SUBMITTED
    locked.submitted_at = min(now, locked.expires_at + SUBMIT_GRACE)
    # No full_clean: every field written comes from the scorer and the locked row, none from the client.
    _ATTEMPT_SCORE_UPDATE(locked)
    caches.attempt_written(locked, created=False, update_fields=_SUBMIT_FIELDS)
    _after_submit(locked)
    return locked


MAX_EXTRA_SECONDS = 3 * 60 * 60


@transaction.atomic
def attempt_grant_extra_time(*, attempt: TestAttempt, seconds: int, reason: str, granted_by) -> TestAttempt:
    """Staff give one learner's running attempt more time (a power cut, a medical break), logged with why.

    The deadline (expires_at) moves at once: the exam screen's timer, the answer cut-off and the expiry
    sweep all read it. A live mock's results wait for the longest grant (PracticeTest.extra_seconds_max).
    """
    if not 0 < seconds <= MAX_EXTRA_SECONDS:
        raise DomainError("Give between 1 second and 3 hours.", fields={"seconds": ["Between 1 and 10800."]})
    if not reason.strip():
        raise DomainError("Say why the extra time is given.", fields={"reason": ["Required."]})
    locked = TestAttempt.objects.select_for_update(of=("self",)).get(pk=attempt.pk)
    if locked.status != TestAttempt.Status.IN_PROGRESS or timezone.now() > locked.expires_at + SUBMIT_GRACE:
        raise Conflict("This attempt is closed; extra time can only be given while it runs.", code="attempt_closed")
    locked.expires_at += timedelta(seconds=seconds)
    locked.extra_seconds += seconds
    locked.save(update_fields=["expires_at", "extra_seconds"])
    AttemptTimeGrant.objects.create(attempt=locked, granted_by=granted_by, seconds=seconds, reason=reason.strip())
    test = PracticeTest.objects.select_for_update().get(pk=locked.test_id)
    if locked.extra_seconds > test.extra_seconds_max:
        test.extra_seconds_max = locked.extra_seconds
        test.save(update_fields=["extra_seconds_max", "updated_at"])
    return locked


def attempts_expire_overdue(*, batch_size: int = EXPIRE_BATCH_SIZE) -> int:
    """Submit (as EXPIRED) attempts whose clock and grace ran out; returns how many were closed."""
    cutoff = timezone.now() - SUBMIT_GRACE
    overdue = list(
        TestAttempt.objects.filter(status=TestAttempt.Status.IN_PROGRESS, expires_at__lt=cutoff)
        .order_by("expires_at")
        .values_list("pk", flat=True)[:batch_size]
    )
    for attempt_id in overdue:
        attempt_submit(attempt=TestAttempt(pk=attempt_id))
    return len(overdue)


def live_results_announce() -> int:
    """Send the results of live mocks whose window has closed (once per test); returns attempts announced.

    At submit a live mock's score is not sent (it would leak the key while others still write), nor are
    its after-submit hooks run (the notebook; `_hooks_wait_for_announce`): this runs with the expiry
    sweep, after the sweep closed the last attempts, and runs the hooks of every finished attempt in the
    transaction that marks the test announced (under its row lock), so a second run, or a duplicate
    task, finds it done. Message keys make the messages safe twice.
    """
    count = 0
    for test in PracticeTest.objects.filter(scheduled_start__isnull=False, results_announced_at__isnull=True):
        if selectors.results_open_at(test) is None:
            count += _live_results_announce_one(test_id=test.pk)
    return count


@transaction.atomic
def _live_results_announce_one(*, test_id: int) -> int:
    test = PracticeTest.objects.select_for_update().get(pk=test_id)
    if test.results_announced_at is not None:
        return 0
    # An attempt still running (one a concurrent sweep holds uncommitted included) waits for the next
    # run: its submit read "not announced" and left its hooks here, but this run's list would miss it.
    if TestAttempt.objects.filter(test=test, status=TestAttempt.Status.IN_PROGRESS).exists():
        return 0
    finished = TestAttempt.objects.filter(
        test=test, status__in=(TestAttempt.Status.SUBMITTED, TestAttempt.Status.EXPIRED)
    ).select_related("user", "test")
    count, boards = 0, {caches.test_board_key(test.pk)}
    rows = finished.iterator(chunk_size=ANNOUNCE_CHUNK)
    while chunk := list(itertools.islice(rows, ANNOUNCE_CHUNK)):
        # Left by attempt_submit for this moment (_hooks_wait_for_announce); once: this marks the test announced.
        for hook in after_submit_hooks:
            hook(attempts=chunk)
        for attempt in chunk:
            if attempt.user_id is None:
                continue
            _result_message(attempt)
            week = caches.iso_week(timezone.localdate(attempt.submitted_at))
            boards.update(caches.topic_board_key(slugify(topic), week) for topic in attempt.topic_breakdown or {})
            count += 1
    test.results_announced_at = timezone.now()
    test.save(update_fields=["results_announced_at", "updated_at"])
    # Their marks were kept out of the boards: the next read of each rebuilds it from PostgreSQL, exactly.
    transaction.on_commit(lambda: caches.boards_rebuild_later(sorted(boards)))
    transaction.on_commit(lambda: caches.test_results_bump([test_id]))  # "my rank" ETags: the board grew
    return count


def papers_prewarm(*, within: timedelta = PREWARM_WINDOW) -> int:
    """Put the papers of scheduled tests starting soon in the cache, so T0 costs no paper build."""
    now = timezone.now()
    upcoming = PracticeTest.objects.filter(
        is_published=True, scheduled_start__gt=now - within, scheduled_start__lte=now + within
    ).only("id", "paper_version")
    count = 0
    for test in upcoming:
        caches.paper_get(test)
        caches.answer_key_get(test_id=test.pk, version=test.paper_version)
        count += 1
    return count


_ATTEMPT_ANSWERS = PreparedQuery(
    lambda attempt_id: AttemptAnswer.objects.filter(attempt_id=attempt_id).values_list(
        "question_id", "option", "marked"
    )
)


def attempt_answers(attempt: TestAttempt) -> tuple[dict[str, str], set[str]]:
    """(question id → canonical option, marked question ids) as stored so far: one query."""
    answers, marked = {}, set()
    for question_id, option, is_marked in _ATTEMPT_ANSWERS(attempt.pk):
        if option:
            answers[str(question_id)] = option
        if is_marked:
            marked.add(str(question_id))
    return answers, marked


# --- helpers --------------------------------------------------------------------------------------

_SCORE_FIELDS = (
    "score",
    "correct_count",
    "wrong_count",
    "unanswered_count",
    "topic_breakdown",
    "section_breakdown",
)


_SUBMIT_FIELDS = frozenset([*_SCORE_FIELDS, "answers", "status", "submitted_at"])
# The submit's write, compiled once; attempt_submit has its post_save sent (caches.attempt_written).
_ATTEMPT_SCORE_UPDATE = PreparedUpdate(TestAttempt, sorted(_SUBMIT_FIELDS))
# The submit's lock: the attempt with its test and learner in one statement, compiled once per process
# (cerebrum/prepared.py): compiling this select_related query per submit was a third of a submit's CPU.
_ATTEMPT_FOR_UPDATE = PreparedQuery(
    lambda attempt_id: TestAttempt.objects.select_for_update(of=("self",))
    .filter(pk=attempt_id)
    .values_list(*model_columns(TestAttempt), *model_columns(PracticeTest, "test__"), *model_columns(User, "user__"))
)


def _attempt_lock(attempt_id: int) -> TestAttempt:
    """The attempt row, locked FOR UPDATE (its test and user read with it); DoesNotExist if there is none."""
    rows = _ATTEMPT_FOR_UPDATE(attempt_id)
    if not rows:
        raise TestAttempt.DoesNotExist(f"No attempt {attempt_id}.")
    attempt_fields = len(TestAttempt._meta.concrete_fields)
    attempt = model_from_row(TestAttempt, rows[0])
    attempt.test = model_from_row(PracticeTest, rows[0], attempt_fields)
    if attempt.user_id is not None:
        attempt.user = model_from_row(User, rows[0], attempt_fields + len(PracticeTest._meta.concrete_fields))
    return attempt


def _check_test_access(*, test: PracticeTest, user, free_user) -> None:
    if not test.is_published:
        raise NotFound(_("No such test."))
    if test.is_free or (user is not None and user.is_staff):
        return
    if user is None:
        raise DomainError(_("Sign up to take this test; free users can take free tests."), code="login_required")
    if (
        test.course_id
        and not Enrollment.objects.filter(user=user, course_id=test.course_id, status=Enrollment.Status.ACTIVE).exists()
    ):
        raise DomainError(_("This test is part of a course you are not enrolled in."), code="not_enrolled")


# A learner's attempts of a test, newest number first: read by every start, compiled once per process.
_LEARNER_ATTEMPTS = {
    who: PreparedQuery(
        lambda test_id, learner_id, who=who: TestAttempt.objects.filter(test_id=test_id, **{f"{who}_id": learner_id})
        .order_by("-attempt_number")
        .values_list("pk", "attempt_number", "status", "expires_at")
    )
    for who in ("user", "free_user")
}


def _running_attempt(*, test: PracticeTest, learner: dict, now) -> tuple[TestAttempt | None, int]:
    """(the running attempt, the highest attempt number used so far)."""
    [(who, person)] = learner.items()
    # From the primary, as when a start ran in a transaction: a replica behind this learner's submit on
    # another device (no read-your-writes cookie there) would hand the closed attempt back as running.
    with primary_reads():
        attempts = _LEARNER_ATTEMPTS[who](test.pk, person.pk)
    used = attempts[0][1] if attempts else 0
    running = next((row for row in attempts if row[2] == TestAttempt.Status.IN_PROGRESS), None)
    if running and now > running[3] + SUBMIT_GRACE:
        attempt_submit(attempt=TestAttempt(pk=running[0]))  # a forgotten attempt closes now and still counts as one
        running = None
    if running:  # a second tab or a double click: the attempt as its exam page reads it (Redis)
        attempt_id = running[0]
        return caches.attempt_get_or_load(
            attempt_id, lambda: TestAttempt.objects.select_related("test").get(pk=attempt_id)
        ), used
    allowed = test.attempts_allowed
    if len(attempts) >= allowed:
        if test.is_live:
            raise Conflict(_("A live mock can be taken once; you have taken it."), code="attempt_limit")
        raise Conflict(
            ngettext(
                "You have used your %(count)s attempt of this test.",
                "You have used all %(count)s attempts of this test.",
                allowed,
            )
            % {"count": allowed},
            code="attempt_limit",
        )
    return None, used


# A start's INSERT, compiled once (cerebrum/prepared.py): save() compiled it anew for every start; its
# post_save is sent by caches.attempt_written.
_ATTEMPT_INSERT = PreparedInsert(TestAttempt)


def _attempt_insert(
    *, test: PracticeTest, learner: dict, number: int, now, expires_at, order, medium: str = "en"
) -> TestAttempt:
    attempt = TestAttempt(
        test=test,
        medium=medium,
        attempt_number=number,
        started_at=now,
        expires_at=expires_at,
        paper_version=test.paper_version,
        question_order=order[0],
        option_orders=order[1],
    )
    for field, value in learner.items():
        setattr(attempt, field, value)
    _ATTEMPT_INSERT(attempt)  # an IntegrityError (a racing start of the same learner) is handled by attempt_start
    caches.attempt_written(attempt, created=True)
    caches.attempt_remember(attempt)  # in Redis after the commit: its exam page is the learner's next request
    event_record(
        event_type="TEST_START",
        name="test_started",
        user=learner.get("user"),
        anonymous_id=f"free:{learner['free_user'].pk}" if "free_user" in learner else "",
        properties={"test_id": test.pk, "attempt_id": attempt.pk, "attempt_number": number},
    )
    return attempt


def _answer_items(attempt: TestAttempt, answers: list[AnswerInput]) -> list[tuple]:
    """Validated (question_id, canonical option, marked, seq, seconds, ordinal), one per question.

    Within one batch the item with the highest seq per question wins and their seconds add up (a
    client may queue several changes of one question while offline).
    """
    if not 1 <= len(answers) <= MAX_ANSWERS_PER_SAVE:
        raise DomainError(
            f"Send 1 to {MAX_ANSWERS_PER_SAVE} answers at a time.", fields={"answers": ["Wrong number of answers."]}
        )
    paper = caches.paper_get_by_id(test_id=attempt.test_id, version=attempt.paper_version)
    in_paper = caches.paper_question_ids(paper)
    chosen: dict[int, list] = {}
    for ordinal, item in enumerate(answers, start=1):
        question_id = int(item["question_id"])
        if question_id not in in_paper:
            raise DomainError("That question is not in this paper.", fields={"question_id": ["Not in this paper."]})
        shown = (item.get("option") or "").strip().upper()
        if shown and shown not in OPTIONS:
            raise DomainError("Choose A, B, C or D.", fields={"option": ["Choose A, B, C or D."]})
        seq = item.get("seq")
        if seq is not None and not 1 <= seq <= MAX_SEQ:
            raise DomainError(f"seq is 1 to {MAX_SEQ}.", fields={"seq": [f"Between 1 and {MAX_SEQ}."]})
        seconds = max(0, int(item.get("time_spent_seconds") or 0))
        row = [question_id, option_canonical(attempt, question_id, shown), bool(item.get("marked_for_review")), seq]
        previous = chosen.get(question_id)
        if previous is None or seq is None or (previous[3] is not None and seq > previous[3]):
            seconds += previous[4] if previous else 0
            chosen[question_id] = [*row, seconds, ordinal]
        else:
            previous[4] += seconds
    return [tuple(row) for row in chosen.values()]


def option_canonical(attempt: TestAttempt, question_id: int, shown: str) -> str:
    """The answer key's letter for the option this learner saw as `shown` ("" stays "")."""
    order = (attempt.option_orders or {}).get(str(question_id))
    return order[OPTIONS.index(shown)] if shown and order else shown


# One statement, so the attempt's state is checked under the same row lock that submit waits for.
# The VALUES rows carry (question_id, option, marked, seq or NULL, seconds, ordinal).
_ANSWERS_UPSERT = """
WITH open_attempt AS (
    SELECT id, started_at FROM test_attempts
    WHERE id = %s AND status = 'IN_PROGRESS' AND expires_at >= %s
    FOR KEY SHARE
), stored AS (
    SELECT COALESCE(MAX(seq), 0) AS last_seq, COALESCE(SUM(time_spent_seconds), 0) AS spent
    FROM attempt_answers WHERE attempt_id = %s
), items (question_id, option, marked, seq, seconds, ordinal) AS (
    VALUES {values}
), ready AS (
    SELECT o.id AS attempt_id, i.question_id, i.option, i.marked,
           COALESCE(i.seq, s.last_seq + i.ordinal) AS seq,
           LEAST(i.seconds, GREATEST(0, FLOOR(EXTRACT(EPOCH FROM (%s - o.started_at)))::int - s.spent
                 - (SUM(i.seconds) OVER (ORDER BY i.ordinal) - i.seconds))) AS seconds
    FROM open_attempt o CROSS JOIN stored s CROSS JOIN items i
), written AS (
    INSERT INTO attempt_answers AS a (attempt_id, question_id, option, marked, seq, time_spent_seconds, updated_at)
    SELECT attempt_id, question_id, option, marked, seq, seconds, %s FROM ready
    ON CONFLICT (attempt_id, question_id) DO UPDATE SET
        option = EXCLUDED.option, marked = EXCLUDED.marked,
        seq = CASE WHEN (SELECT i.seq IS NULL FROM items i WHERE i.question_id = EXCLUDED.question_id)
                   THEN GREATEST(EXCLUDED.seq, a.seq + 1) ELSE EXCLUDED.seq END,
        time_spent_seconds = a.time_spent_seconds + EXCLUDED.time_spent_seconds, updated_at = EXCLUDED.updated_at
    -- An item without seq is "the newest so far" when it is written, not when the statement's snapshot
    -- was taken: a save that committed in between (its row lock waited for) is older, not newer.
    WHERE EXCLUDED.seq > a.seq OR (SELECT i.seq IS NULL FROM items i WHERE i.question_id = EXCLUDED.question_id)
    RETURNING a.seq
)
SELECT (SELECT COUNT(*) FROM open_attempt), (SELECT COUNT(*) FROM written),
       GREATEST((SELECT last_seq FROM stored), COALESCE((SELECT MAX(seq) FROM written), 0))
"""
_ANSWER_VALUES_ROW = "(%s::bigint, %s::varchar, %s::boolean, %s::int, %s::int, %s::int)"


def _answers_upsert(*, attempt_id: int, items: list[tuple], now) -> tuple[bool, int, int]:
    """(attempt open, rows written, highest seq stored) — see attempt_answers_save."""
    if connection.vendor != "postgresql":
        return _answers_upsert_portable(attempt_id=attempt_id, items=items, now=now)
    sql = _ANSWERS_UPSERT.format(values=", ".join([_ANSWER_VALUES_ROW] * len(items)))
    params = [attempt_id, now - SUBMIT_GRACE, attempt_id, *[value for item in items for value in item], now, now]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        opened, saved, last_seq = cursor.fetchone()
    return bool(opened), saved, last_seq


@transaction.atomic
def _answers_upsert_portable(*, attempt_id: int, items: list[tuple], now) -> tuple[bool, int, int]:
    """The same rules as _ANSWERS_UPSERT through the ORM, for the embedded SQLite default.

    SQLite's write transactions begin IMMEDIATE (settings), so this read-then-write holds the
    database's one write lock throughout: no submit or other save can come in between.
    """
    attempt = (
        TestAttempt.objects.filter(
            pk=attempt_id, status=TestAttempt.Status.IN_PROGRESS, expires_at__gte=now - SUBMIT_GRACE
        )
        .only("started_at")
        .first()
    )
    if attempt is None:
        return False, 0, 0
    stored = {row.question_id: row for row in AttemptAnswer.objects.filter(attempt_id=attempt_id)}
    last_seq = max((row.seq for row in stored.values()), default=0)
    budget = max(0, int((now - attempt.started_at).total_seconds())) - sum(
        row.time_spent_seconds for row in stored.values()
    )
    written = []
    for question_id, option, marked, seq, seconds, ordinal in items:
        seq = last_seq + ordinal if seq is None else seq
        seconds = min(seconds, max(0, budget))
        budget -= seconds
        row = stored.get(question_id)
        if row is not None and seq <= row.seq:
            continue
        if row is None:
            row = AttemptAnswer(attempt_id=attempt_id, question_id=question_id)
        row.option, row.marked, row.seq, row.updated_at = option, marked, seq, now
        row.time_spent_seconds += seconds
        row.save()
        written.append(seq)
    return True, len(written), max([last_seq, *written])


def _apply_score(attempt: TestAttempt) -> None:
    test = attempt.test
    key = caches.answer_key_get(test_id=test.pk, version=attempt.paper_version)
    paper = caches.paper_get_by_id(test_id=test.pk, version=attempt.paper_version)
    marking = Marking(correct=test.marks_correct, wrong=test.marks_wrong, unanswered=test.marks_unanswered)
    sections = sections_in_learner_order(paper=paper, attempt=attempt)
    result = score_answers(answers=attempt.answers, answer_key=key, marking=marking, sections=sections)
    for field in _SCORE_FIELDS:
        setattr(attempt, field, getattr(result, field))


def _after_submit(attempt: TestAttempt) -> None:
    properties = {"test_id": attempt.test_id, "attempt_id": attempt.pk, "score": attempt.score}
    event_record(event_type="TEST_SUBMIT", name="test_submitted", user=attempt.user, properties=properties)
    results_open = selectors.results_open_at(attempt.test) is None
    if results_open:  # else a live mock's: sent by live_results_announce (messages are keyed: once)
        _result_message(attempt)
    if not _hooks_wait_for_announce(attempt.test):
        for hook in after_submit_hooks:
            hook(attempts=[attempt])
    transaction.on_commit(lambda: _after_submit_commit(attempt, results_open=results_open))


def _hooks_wait_for_announce(test: PracticeTest) -> bool:
    """A live mock's after-submit hooks (the mistake notebook) run in live_results_announce, once for
    every attempt, not in the storm's submits: nobody sees their work before its results open anyway.

    Decided by the test's announce mark rather than the clock, so an attempt the sweep closes after the
    window (results open, not yet announced) is not run here and again there. Every attempt of a live
    mock has ended before the announce (each deadline, extra time included, is before the results open);
    an attempt submitted after it anyway runs them here.
    """
    return test.is_live and test.results_announced_at is None


def _result_message(attempt: TestAttempt) -> None:
    """The score by email/WhatsApp, once per attempt (a live mock's when its results open)."""
    if attempt.user_id:
        message_enqueue(
            template="test_result",
            context={
                "name": attempt.user.name,
                "test": attempt.test.title,
                "score": attempt.score,
                "correct": attempt.correct_count,
                "wrong": attempt.wrong_count,
                "unanswered": attempt.unanswered_count,
                "attempt_id": attempt.pk,
            },
            idempotency_key=f"test_result:{attempt.pk}",
            user=attempt.user,
        )


def _after_submit_commit(attempt: TestAttempt, *, results_open: bool) -> None:
    if attempt.user_id is None and attempt.free_user_id:  # the attempt's own save dropped a user's dashboard
        caches.dashboard_invalidate(attempt.free_user.user_id)
    if not results_open:  # a live mock's: the announce rebuilds its boards and bumps its results version
        return
    if attempt.user_id:
        caches.leaderboard_record(
            test_id=attempt.test_id,
            attempt_id=attempt.pk,
            user_id=attempt.user_id,
            score=attempt.score,
            topic_scores={topic: row["score"] for topic, row in attempt.topic_breakdown.items()},
            week=caches.iso_week(timezone.localdate(attempt.submitted_at)),
        )
    # After the board changed: "my rank" reads this version before the board, so its ETag never names
    # a board older than the one it was read with (docs/api.md, "Personal JSON").
    caches.test_results_bump([attempt.test_id])


def _utm_fields(utm: dict | None) -> dict:
    return {key: str((utm or {}).get(key, ""))[:100] for key in UTM_KEYS}
