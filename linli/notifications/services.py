"""Writes of the notifications app: notify someone, deliver it, mark it read.

`notify` writes the inbox row inside the caller's transaction and hands the
message to the channels only after that transaction commits (through
`linli.core.tasks.enqueue`): nothing is announced that was rolled back.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.core.errors import NotFound, ValidationFailed
from linli.core.pii import validate_mobile
from linli.core.tasks import enqueue

from .channels import Message, Undeliverable, active_channels
from .choices import AddressChannel, DeliveryStatus, Kind
from .models import ChannelAddress, Delivery, Notification
from .texts import word_for_deployment

if TYPE_CHECKING:
    from linli.requests.models import ServiceRequest

logger = logging.getLogger("linli.notifications")

DELIVER_TASK = "notifications.deliver"


def notify(
    *,
    user: User,
    kind: str,
    title: str,
    body: str,
    link: str = "",
    request: ServiceRequest | None = None,
    params: dict[str, Any] | None = None,
    key: str = "",
) -> Notification:
    """Put a notification in `user`'s inbox; the channels carry it after commit.

    With a `key` ("event:12"), the same key never reaches the same user twice: a task
    that runs again (a redelivered Celery message) returns the first notification."""
    if key:
        existing = Notification.objects.filter(user=user, key=key).first()
        if existing is not None:
            return existing
    notification = Notification(
        user=user,
        kind=kind,
        title=str(title)[:200],
        body=str(body),
        link=link,
        request=request,
        params=params or {},
        key=key,
    )
    try:
        with transaction.atomic():
            notification.save()
    except IntegrityError:
        if not key:
            raise
        # Another run of the same task got there first, between our look and our write.
        return Notification.objects.get(user=user, key=key)
    enqueue(DELIVER_TASK, notification.pk)
    return notification


def notify_kind(
    *,
    user: User,
    kind: Kind,
    params: dict[str, Any],
    link: str = "",
    request: ServiceRequest | None = None,
    key: str = "",
) -> Notification:
    """A notification worded from its kind and params (texts.py): stored in the
    deployment's language, shown to each reader in theirs."""
    title, body = word_for_deployment(kind, params)
    return notify(
        user=user,
        kind=kind,
        title=title,
        body=body,
        link=link,
        request=request,
        params=params,
        key=key,
    )


def notify_text(
    *,
    user: User,
    title: str,
    body: str,
    values: dict[str, Any] | None = None,
    link: str = "",
    request: ServiceRequest | None = None,
    key: str = "",
) -> Notification:
    """A message of its own words: `title` and `body` are msgids (mark them with
    `gettext_noop` where they are written, so that makemessages finds them) and `values`
    fill their placeholders. Stored in the deployment's language, shown to each reader
    in theirs; a value that needs words of its own goes in as `in_every_language(label)`.
    """
    params = {"title": title, "body": body, "values": values or {}}
    return notify_kind(
        user=user, kind=Kind.MESSAGE, params=params, link=link, request=request, key=key
    )


def absolute_link(link: str) -> str:
    """A link people can follow from an SMS or an e-mail; empty without LINLI_SITE_URL."""
    if not link:
        return ""
    if link.startswith(("http://", "https://")):
        return link
    site = settings.LINLI_SITE_URL
    return urljoin(site.rstrip("/") + "/", link.lstrip("/")) if site else ""


def message_of(notification: Notification) -> Message:
    user = notification.user
    addresses = {a.channel: a.address for a in ChannelAddress.objects.filter(user=user)}
    return Message(
        notification_id=notification.pk,
        kind=notification.kind,
        username=user.get_username(),
        title=notification.title,
        body=notification.body,
        link=absolute_link(notification.link),
        email=user.email,
        addresses=addresses,
    )


def notification_deliver(*, notification_id: int) -> dict[str, str]:
    """Hand one notification to every active channel and record what each did.

    Runs after commit, as a task. A channel that already sent it is not asked again,
    so a task that runs twice sends once."""
    notification = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if notification is None:
        return {}
    done = set(
        Delivery.objects.filter(notification=notification, status=DeliveryStatus.SENT).values_list(
            "channel", flat=True
        )
    )
    message = message_of(notification)
    outcome: dict[str, str] = {}
    for channel in active_channels():
        if channel.name in done:
            continue
        try:
            detail = channel.send(message)
            status = DeliveryStatus.SENT
        except Undeliverable as reason:
            status, detail = DeliveryStatus.SKIPPED, str(reason)
        except Exception as error:
            status, detail = DeliveryStatus.FAILED, f"{type(error).__name__}: {error}"
            logger.warning(
                "Notification %s was not sent by %s: %s", notification.pk, channel.name, detail
            )
        Delivery.objects.update_or_create(
            notification=notification,
            channel=channel.name,
            defaults={"status": status, "detail": detail[:1000]},
        )
        outcome[channel.name] = status
    return outcome


def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of `user`'s notifications read (again is harmless); others' are not found."""
    notification = Notification.objects.filter(pk=notification_id, user=user).first()
    if notification is None:
        raise NotFound()
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def inbox_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of `user` read; how many were."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


@transaction.atomic
def channel_address_set(*, user: User, channel: str, address: str) -> ChannelAddress | None:
    """Where `user` receives SMS or WeChat messages; an empty address removes it."""
    if channel not in AddressChannel.values:
        raise ValidationFailed(fields={"channel": [_("Unknown channel.")]})
    address = address.strip()
    if not address:
        ChannelAddress.objects.filter(user=user, channel=channel).delete()
        return None
    if channel == AddressChannel.SMS:
        try:
            address = validate_mobile(address)
        except ValidationError as error:
            raise ValidationFailed(fields={"address": error.messages}) from error
    elif len(address) > 128:
        raise ValidationFailed(fields={"address": [_("At most 128 characters.")]})
    row, _created = ChannelAddress.objects.update_or_create(
        user=user, channel=channel, defaults={"address": address}
    )
    return row
