from django.db import migrations, models

from cerebrum.migration_ops import AddIndexConcurrentlyWherePossible


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction; it never locks a live table.
    atomic = False

    dependencies = [
        ('communications', '0003_outbox_schedule_preferences'),
    ]

    operations = [
        AddIndexConcurrentlyWherePossible(
            model_name='communicationlog',
            index=models.Index(condition=models.Q(('status', 'QUEUED')), fields=['scheduled_for'], name='idx_communication_due'),
        ),
        AddIndexConcurrentlyWherePossible(
            model_name='communicationlog',
            index=models.Index(fields=['recipient', '-created_at'], name='idx_communication_recipient'),
        ),
    ]
