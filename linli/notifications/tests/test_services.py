"""notify: the inbox row at once, the channels only after commit; each channel's outcome."""

from __future__ import annotations

import logging

import pytest
from django.core import mail
from django.core.checks import run_checks
from django.db import transaction

from linli.accounts.tests.factories import UserFactory
from linli.core.errors import NotFound, ValidationFailed
from linli.notifications.choices import DeliveryStatus, Kind
from linli.notifications.models import ChannelAddress, Delivery, Notification
from linli.notifications.services import (
    channel_address_set,
    inbox_mark_all_read,
    notification_mark_read,
    notify,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return UserFactory.create(username="li", email="li@example.org")


def send(user, **fields):
    return notify(
        user=user, kind=Kind.MESSAGE, title=fields.pop("title", "Hello"), body="Body", **fields
    )


def test_nothing_leaves_before_commit_and_everything_after(
    person, settings, django_capture_on_commit_callbacks, caplog
):
    settings.LINLI_NOTIFICATION_CHANNELS = ["console", "email"]
    caplog.set_level(logging.INFO, logger="linli.notifications")
    with django_capture_on_commit_callbacks(execute=False) as pending:
        notification = send(person, link="/requests/R1/")
    # The inbox row is written in the caller's transaction; the channels wait.
    assert Notification.objects.filter(user=person).count() == 1
    assert len(pending) == 1
    assert not Delivery.objects.exists()
    assert mail.outbox == []
    pending[0]()
    assert dict(notification.deliveries.values_list("channel", "status")) == {
        "console": DeliveryStatus.SENT,
        "email": DeliveryStatus.SENT,
    }
    assert [m.to for m in mail.outbox] == [["li@example.org"]]
    assert f"Notification {notification.pk} to li: Hello" in caplog.text


def test_a_rolled_back_transaction_notifies_nobody(
    person, settings, django_capture_on_commit_callbacks, gateway
):
    settings.LINLI_NOTIFICATION_CHANNELS = ["console", "email", "sms"]
    settings.LINLI_SMS_GATEWAY_URL = gateway.url
    ChannelAddress.objects.create(user=person, channel="sms", address="13800000000")
    with django_capture_on_commit_callbacks(execute=True) as ran:
        try:
            with transaction.atomic():
                send(person)
                raise RuntimeError("the caller fails after notifying")
        except RuntimeError:
            pass
    assert ran == []
    assert not Notification.objects.exists()
    assert mail.outbox == []
    assert gateway.received == []


def test_sms_and_wechat_go_to_their_gateways_as_json(
    person, settings, django_capture_on_commit_callbacks, gateway
):
    settings.LINLI_NOTIFICATION_CHANNELS = ["sms", "wechat"]
    settings.LINLI_SMS_GATEWAY_URL = gateway.url
    settings.LINLI_SMS_GATEWAY_TOKEN = "sms-secret"
    settings.LINLI_WECHAT_GATEWAY_URL = gateway.url
    settings.LINLI_WECHAT_TEMPLATE_ID = "TPL-1"
    settings.LINLI_SITE_URL = "https://linli.example.gov.cn"
    gateway.answer = {"errcode": 0, "msgid": 42}
    channel_address_set(user=person, channel="sms", address="138 0000 0000")
    channel_address_set(user=person, channel="wechat", address="openid-li")
    with django_capture_on_commit_callbacks(execute=True):
        notification = send(person, title="请求已受理", link="/requests/R1/")
    sms, wechat = gateway.received
    assert sms == {
        "to": "13800000000",
        "text": "【请求已受理】Body https://linli.example.gov.cn/requests/R1/",
        "reference": str(notification.pk),
    }
    assert gateway.headers[0]["Authorization"] == "Bearer sms-secret"
    assert wechat == {
        "touser": "openid-li",
        "template_id": "TPL-1",
        "url": "https://linli.example.gov.cn/requests/R1/",
        "data": {
            "first": {"value": "请求已受理"},
            "keyword1": {"value": "Body"},
            "remark": {"value": ""},
        },
    }
    assert set(notification.deliveries.values_list("status", flat=True)) == {"sent"}
    assert notification.deliveries.get(channel="wechat").detail == "42"


def test_refusals_and_missing_addresses_are_recorded_not_raised(
    person, settings, django_capture_on_commit_callbacks, gateway
):
    settings.LINLI_NOTIFICATION_CHANNELS = ["sms", "wechat"]
    settings.LINLI_SMS_GATEWAY_URL = gateway.url
    settings.LINLI_WECHAT_GATEWAY_URL = gateway.url
    settings.LINLI_WECHAT_TEMPLATE_ID = "TPL-1"
    gateway.answer = {"errcode": 43004, "errmsg": "require subscribe"}
    channel_address_set(user=person, channel="wechat", address="openid-li")
    with django_capture_on_commit_callbacks(execute=True):
        notification = send(person)
    sms = notification.deliveries.get(channel="sms")
    wechat = notification.deliveries.get(channel="wechat")
    assert (sms.status, sms.detail) == ("skipped", "no mobile number for text messages")
    assert wechat.status == "failed"
    assert "43004" in wechat.detail
    gateway.status, gateway.answer = 503, {}
    with django_capture_on_commit_callbacks(execute=True):
        again = send(person)
    assert (
        again.deliveries.get(channel="wechat").detail == "GatewayError: HTTP 503 from the gateway"
    )


def test_a_channel_without_its_gateway_is_off_and_check_says_so(
    person, settings, django_capture_on_commit_callbacks
):
    settings.LINLI_NOTIFICATION_CHANNELS = ["console", "sms", "pigeon"]
    settings.LINLI_SMS_GATEWAY_URL = ""
    with django_capture_on_commit_callbacks(execute=True):
        notification = send(person)
    assert list(notification.deliveries.values_list("channel", flat=True)) == ["console"]
    ids = {message.id for message in run_checks()}
    assert {"linli.notifications.W001", "linli.notifications.E001"} <= ids


def test_the_same_key_notifies_once_and_delivers_once(person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as ran:
        first = send(person, key="event:1")
        second = send(person, key="event:1")
    assert first.pk == second.pk
    assert len(ran) == 1
    assert Delivery.objects.count() == 1


def test_only_the_owner_marks_a_notification_read(person, django_capture_on_commit_callbacks):
    other = UserFactory.create()
    notification = send(person)
    send(person)
    with pytest.raises(NotFound):
        notification_mark_read(user=other, notification_id=notification.pk)
    marked = notification_mark_read(user=person, notification_id=notification.pk)
    assert marked.read_at is not None
    assert notification_mark_read(user=person, notification_id=notification.pk).read_at == (
        marked.read_at
    )
    assert inbox_mark_all_read(user=person) == 1
    assert inbox_mark_all_read(user=other) == 0


def test_a_bad_sms_number_is_refused_at_its_field(person):
    with pytest.raises(ValidationFailed) as refused:
        channel_address_set(user=person, channel="sms", address="12345")
    assert "address" in refused.value.fields
    with pytest.raises(ValidationFailed):
        channel_address_set(user=person, channel="fax", address="1")
    channel_address_set(user=person, channel="sms", address="13800000000")
    assert channel_address_set(user=person, channel="sms", address="") is None
    assert not ChannelAddress.objects.exists()


def test_a_message_of_its_own_words_is_stored_in_chinese_and_read_in_each_language(
    person, settings, django_capture_on_commit_callbacks
):
    from django.utils import translation

    from linli.evaluations.choices import ComplaintState
    from linli.notifications.services import notify_text
    from linli.notifications.texts import in_every_language, worded

    settings.LANGUAGE_CODE = "zh-hans"
    with django_capture_on_commit_callbacks(execute=True):
        sent = notify_text(
            user=person,
            title="Your complaint #%(number)s: %(state)s",
            body="To be answered by %(date)s.",
            values={
                "number": 7,
                "state": in_every_language(ComplaintState.ANSWERED.label),
                "date": "2026-12-07",
            },
        )
    sent.refresh_from_db()
    with translation.override("zh-hans"):
        chinese = (
            translation.gettext("Your complaint #%(number)s: %(state)s")
            % {"number": 7, "state": str(ComplaintState.ANSWERED.label)},
            translation.gettext("To be answered by %(date)s.") % {"date": "2026-12-07"},
        )
        assert (sent.title, sent.body) == chinese
        assert worded(sent) == chinese
    assert chinese[0] != "Your complaint #7: Answered"
    with translation.override("en"):
        assert worded(sent) == ("Your complaint #7: Answered", "To be answered by 2026-12-07.")


def test_a_message_from_before_its_words_were_kept_reads_as_it_was_stored(person):
    from linli.notifications.texts import worded

    assert worded(send(person, title="旧消息")) == ("旧消息", "Body")
