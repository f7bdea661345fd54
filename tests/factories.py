"""factory_boy factories for the whole data model, shared by every app's tests."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from accounts.models import FreeUser, ParentLink, User
from courses.models import ChapterNote, Course, Enrollment, PracticeTest, PracticeTestQuestion, Question


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"student{n}@example.com")
    phone = factory.Sequence(lambda n: f"+9198{n:08d}")
    name = factory.Faker("name", locale="en_IN")
    role = User.Role.STUDENT
    profile = factory.LazyFunction(lambda: {"grade": "12", "target_year": 2027, "city": "Kota"})
    password = factory.PostGenerationMethodCall("set_password", "s3cret-Pass!")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ParentFactory(UserFactory):
    email = factory.Sequence(lambda n: f"parent{n}@example.com")
    phone = factory.Sequence(lambda n: f"+9197{n:08d}")
    role = User.Role.PARENT
    profile = factory.LazyFunction(dict)


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    phone = factory.Sequence(lambda n: f"+9196{n:08d}")
    role = User.Role.ADMIN
    is_staff = True
    is_superuser = True


class ParentLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ParentLink

    parent = factory.SubFactory(ParentFactory)
    student = factory.SubFactory(UserFactory)


class FreeUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FreeUser

    name = factory.Faker("name", locale="en_IN")
    phone = factory.Sequence(lambda n: f"+9195{n:08d}")
    grade = "12"


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    name = factory.Sequence(lambda n: f"NEET Biology Course {n}")
    slug = factory.Sequence(lambda n: f"neet-biology-{n}")
    type = Course.Type.ONLINE
    class_level = "12"
    fees_paise = 4_999_900
    description = "Complete NCERT Biology for NEET."
    start_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=14))


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    user = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory)
    status = Enrollment.Status.PENDING


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    ncert_class = "11"
    chapter = "Cell: The Unit of Life"
    topic = factory.Iterator(["Cell organelles", "Cell membrane", "Nucleus"])
    difficulty = Question.Difficulty.MEDIUM
    text = factory.Sequence(lambda n: f"Question {n}: Which organelle is the powerhouse of the cell?")
    option_a = "Mitochondrion"
    option_b = "Ribosome"
    option_c = "Golgi body"
    option_d = "Lysosome"
    correct_option = "A"
    explanation = "Mitochondria make ATP by oxidative phosphorylation."


class PracticeTestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PracticeTest
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"NEET Mock Test {n}")
    slug = factory.Sequence(lambda n: f"neet-mock-{n}")
    duration_minutes = 30
    is_free = True

    @factory.post_generation
    def question_count(obj, create, extracted, **kwargs):
        """PracticeTestFactory(question_count=5) builds a paper of five new questions."""
        if not create:
            return
        for position in range(1, (extracted if extracted is not None else 5) + 1):
            PracticeTestQuestion.objects.create(test=obj, question=QuestionFactory(), position=position)


class ChapterNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChapterNote

    grade = "11"
    chapter_number = factory.Sequence(lambda n: n + 1)
    chapter = factory.Sequence(lambda n: f"Chapter {n}")
    title = factory.Sequence(lambda n: f"Notes {n}")
    slug = factory.Sequence(lambda n: f"notes-{n}")
    body = "# Heading\n\nSome **bold** text."
    is_published = True


# --- Appended by the foundation engineer: the big tables, so the admin tests compare 1 row with 50. ---
# Imported here, not at the top, because this file is shared and only ever appended to.
from accounts.models import AuthLog, PhoneOTP  # noqa: E402
from analytics.models import AnalyticsEvent  # noqa: E402
from communications.models import Channel, CommunicationLog  # noqa: E402
from courses.models import TestAttempt  # noqa: E402
from payments.models import Payment, PaymentEvent  # noqa: E402


class TestAttemptFactory(factory.django.DjangoModelFactory):
    """A submitted attempt of a one-question free test."""

    class Meta:
        model = TestAttempt

    user = factory.SubFactory(UserFactory)
    test = factory.SubFactory(PracticeTestFactory, question_count=1)
    status = TestAttempt.Status.SUBMITTED
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=30))
    submitted_at = factory.LazyFunction(timezone.now)
    score = 4
    correct_count = 1


class AuthLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuthLog

    user = factory.SubFactory(UserFactory)
    identifier = factory.LazyAttribute(lambda log: log.user.email)
    event = AuthLog.Event.LOGIN_SUCCESS
    ip_address = "127.0.0.1"


class PhoneOTPFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhoneOTP

    user = factory.SubFactory(UserFactory)
    phone = factory.LazyAttribute(lambda otp: otp.user.phone)
    code_hash = "not-a-real-hash"
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=5))


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    enrollment = factory.SubFactory(EnrollmentFactory)
    user = factory.SelfAttribute("enrollment.user")
    amount_paise = factory.SelfAttribute("enrollment.course.fees_paise")
    status = Payment.Status.CREATED
    razorpay_order_id = factory.Sequence(lambda n: f"order_factory{n:08d}")


class PaymentEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentEvent

    payment = factory.SubFactory(PaymentFactory)
    provider_event_id = factory.Sequence(lambda n: f"evt_factory{n:08d}")
    event_type = "order.created"
    source = PaymentEvent.Source.SYSTEM
    to_status = Payment.Status.CREATED


class AnalyticsEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnalyticsEvent

    user = factory.SubFactory(UserFactory)
    event_type = AnalyticsEvent.Type.PAGE_VIEW
    event_name = "page_view"
    path = "/"


class CommunicationLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommunicationLog

    user = factory.SubFactory(UserFactory)
    channel = Channel.EMAIL
    template = "welcome"
    recipient = factory.LazyAttribute(lambda log: log.user.email)
    idempotency_key = factory.Sequence(lambda n: f"factory:{n}")
