"""Thin Celery tasks of the appointments app."""

from celery import shared_task


@shared_task
def send_appointment_reminders():
    """Daily (Celery beat): remind the patients booked for the day after tomorrow, each once."""
    from .services import send_reminders  # here, as every task module does (tasks call services)

    return send_reminders()
