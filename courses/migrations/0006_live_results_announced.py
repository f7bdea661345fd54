from datetime import timedelta

from django.db import migrations
from django.utils import timezone


def mark_past_live_mocks_announced(apps, schema_editor):
    """Live mocks that ended before this release sent their results at each submit: nothing to announce."""
    PracticeTest = apps.get_model("courses", "PracticeTest")
    now = timezone.now()
    for test in PracticeTest.objects.filter(scheduled_start__isnull=False, results_announced_at__isnull=True):
        if test.scheduled_start + timedelta(minutes=test.duration_minutes) < now:
            PracticeTest.objects.filter(pk=test.pk).update(results_announced_at=now)


class Migration(migrations.Migration):
    dependencies = [("courses", "0005_item_analysis")]

    operations = [migrations.RunPython(mark_past_live_mocks_announced, migrations.RunPython.noop)]
