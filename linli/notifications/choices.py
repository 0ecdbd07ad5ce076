from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    """What a notification is about; each kind knows how to word itself (texts.py)."""

    MESSAGE = "message", _("Message")
    REQUEST_STATUS = "request_status", _("Your request")
    REQUEST_ASSIGNED = "request_assigned", _("A new task")
    REQUEST_WITHDRAWN = "request_withdrawn", _("A task withdrawn")
    ESCALATION = "escalation", _("Overdue request")


class DeliveryStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Not sent (no address)")
    FAILED = "failed", _("Failed")


class AddressChannel(models.TextChoices):
    """Channels that need an address the account does not hold."""

    SMS = "sms", _("Text message (SMS)")
    WECHAT = "wechat", _("WeChat")
