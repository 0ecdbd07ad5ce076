"""Channels that carry a notification beyond the inbox, behind one interface.

`Channel.send(message)` returns a short note on success, raises `Undeliverable`
when this user cannot be reached on this channel (no address: recorded as
skipped), and raises anything else on failure (recorded as failed). Which
channels run is LINLI_NOTIFICATION_CHANNELS; the embedded default is the
console (the log). SMS and WeChat are HTTP clients of the deployment's own
gateways (a service holding the operator's SMS account or the official
account's access token), so Linli itself keeps no third-party credentials.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.conf import settings
from django.core.mail import send_mail

logger = logging.getLogger("linli.notifications")


@dataclass(frozen=True)
class Message:
    """What a channel needs to carry one notification, in the deployment's language."""

    notification_id: int
    kind: str
    username: str
    title: str
    body: str
    # Absolute when LINLI_SITE_URL is set, else empty (a bare path means nothing in an SMS).
    link: str = ""
    email: str = ""
    # Per channel: {"sms": "+8613800000000", "wechat": "<openid>"}.
    addresses: dict[str, str] = field(default_factory=dict)


class Undeliverable(Exception):
    """This user cannot be reached on this channel."""


class Channel:
    name: ClassVar[str]

    def send(self, message: Message) -> str:
        raise NotImplementedError

    @classmethod
    def configured(cls) -> bool:
        """Whether the deployment gave this channel what it needs."""
        return True


class ConsoleChannel(Channel):
    """The embedded default: the message goes to the log (the console of `linli serve`)."""

    name = "console"

    def send(self, message: Message) -> str:
        logger.info(
            "Notification %s to %s: %s — %s%s",
            message.notification_id,
            message.username,
            message.title,
            message.body,
            f" {message.link}" if message.link else "",
        )
        return "logged"


class EmailChannel(Channel):
    """Through Django's e-mail backend (EMAIL_URL)."""

    name = "email"

    def send(self, message: Message) -> str:
        if not message.email:
            raise Undeliverable("no e-mail address")
        text = message.body + (f"\n\n{message.link}" if message.link else "")
        send_mail(message.title, text, None, [message.email], fail_silently=False)
        return "sent"


class GatewayError(Exception):
    """The gateway refused the message or could not be reached."""


def post_json(
    url: str, payload: dict[str, Any], token: str = "", timeout: float | None = None
) -> dict[str, Any]:
    """POST `payload` as JSON; the gateway's JSON answer (or {}); GatewayError otherwise."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise GatewayError(f"Gateway URL must be http or https: {url}")
    data = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310 - scheme checked above
    wait = timeout or float(settings.LINLI_NOTIFICATION_TIMEOUT_SECONDS)
    try:
        with urllib.request.urlopen(request, timeout=wait) as response:  # noqa: S310 - scheme checked above
            raw = response.read()
    except urllib.error.HTTPError as error:
        raise GatewayError(f"HTTP {error.code} from the gateway") from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise GatewayError(f"Gateway unreachable: {error}") from error
    try:
        answer = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


class SmsChannel(Channel):
    """A text message through the SMS gateway: POST {"to", "text", "reference"}."""

    name = "sms"
    # Long bodies are split (and billed) per 70 Chinese characters: keep messages short.
    MAX_CHARACTERS = 300

    @classmethod
    def configured(cls) -> bool:
        return bool(settings.LINLI_SMS_GATEWAY_URL)

    def send(self, message: Message) -> str:
        phone = message.addresses.get(self.name)
        if not phone:
            raise Undeliverable("no mobile number for text messages")
        text = f"【{message.title}】{message.body}"
        if message.link:
            text += f" {message.link}"
        answer = post_json(
            settings.LINLI_SMS_GATEWAY_URL,
            {
                "to": phone,
                "text": text[: self.MAX_CHARACTERS],
                "reference": str(message.notification_id),
            },
            token=settings.LINLI_SMS_GATEWAY_TOKEN,
        )
        return str(answer.get("id", "sent"))


class WechatChannel(Channel):
    """A WeChat template message, in the shape of the official-account API
    (message/template/send), posted to the gateway that holds the access token."""

    name = "wechat"

    @classmethod
    def configured(cls) -> bool:
        return bool(settings.LINLI_WECHAT_GATEWAY_URL and settings.LINLI_WECHAT_TEMPLATE_ID)

    def send(self, message: Message) -> str:
        openid = message.addresses.get(self.name)
        if not openid:
            raise Undeliverable("no WeChat account linked")
        payload: dict[str, Any] = {
            "touser": openid,
            "template_id": settings.LINLI_WECHAT_TEMPLATE_ID,
            "data": {
                "first": {"value": message.title},
                "keyword1": {"value": message.body},
                "remark": {"value": ""},
            },
        }
        if message.link:
            payload["url"] = message.link
        answer = post_json(
            settings.LINLI_WECHAT_GATEWAY_URL, payload, token=settings.LINLI_WECHAT_GATEWAY_TOKEN
        )
        # WeChat answers 200 with {"errcode": 43004, "errmsg": "require subscribe"} on refusal.
        if answer.get("errcode", 0) not in (0, "0"):
            raise GatewayError(
                f"WeChat refused: {answer.get('errcode')} {answer.get('errmsg', '')}"
            )
        return str(answer.get("msgid", "sent"))


CHANNELS: dict[str, type[Channel]] = {
    channel.name: channel for channel in (ConsoleChannel, EmailChannel, SmsChannel, WechatChannel)
}


def active_channels() -> list[Channel]:
    """The channels LINLI_NOTIFICATION_CHANNELS names and the deployment configured.

    A named channel without its gateway is left out, with a warning once per process
    (`manage.py check` says so too)."""
    active: list[Channel] = []
    for name in settings.LINLI_NOTIFICATION_CHANNELS:
        channel = CHANNELS.get(name)
        if channel is None or not channel.configured():
            if name not in _warned:
                _warned.add(name)
                logger.warning("Notification channel %r is unknown or has no gateway: off", name)
            continue
        active.append(channel())
    return active


_warned: set[str] = set()
