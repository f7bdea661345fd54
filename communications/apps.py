from django.apps import AppConfig


class CommunicationsConfig(AppConfig):
    name = "communications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from communications import tasks
        from communications.services import outbox

        # The outbox publishes the send task, whose module imports the services (cerebrum/bindings.py).
        outbox.message_send_task.bind(tasks.message_send)
