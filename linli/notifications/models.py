"""The inbox: every notification a user receives, and what each channel did with it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.fields import EncryptedTextField

from .choices import AddressChannel, DeliveryStatus, Kind


class Notification(models.Model):
    """One message in one user's inbox.

    `title` and `body` are worded in the deployment's language when it is sent (the
    text SMS, WeChat and e-mail carry); pages and the API word it again from `kind`
    and `params` in the reader's language (texts.py), falling back to the stored text."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.MESSAGE)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(_("link"), max_length=255, blank=True)
    request = models.ForeignKey(
        "requests.ServiceRequest",
        verbose_name=_("request"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )
    # What the text is made of ({"number": "R…", "state": "assigned"}), to word it anew.
    params = models.JSONField(_("details"), default=dict, blank=True)
    # "event:123", "escalation:7": the same source never notifies a user twice, even
    # when a task runs again.
    key = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_inbox"),
            models.Index(
                fields=["user"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], condition=~models.Q(key=""), name="notification_once"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Delivery(models.Model):
    """What one channel did with one notification: sent, skipped (no address) or failed."""

    notification = models.ForeignKey(
        Notification,
        verbose_name=_("notification"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    channel = models.CharField(_("channel"), max_length=20)
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices)
    detail = models.TextField(_("detail"), blank=True)
    at = models.DateTimeField(_("at"), auto_now=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="delivery_once_per_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id} {self.channel} {self.status}"


class ChannelAddress(models.Model):
    """Where a user receives SMS (a mobile number) or WeChat messages (their openid in
    the deployment's official account). Only the user's own choice puts one here."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="channel_addresses",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=AddressChannel.choices)
    # A phone number is personal data: encrypted at rest like the residents' phones.
    address = EncryptedTextField(_("address"))
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification address")
        verbose_name_plural = _("notification addresses")
        constraints = [
            models.UniqueConstraint(fields=["user", "channel"], name="channel_address_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.channel}"
