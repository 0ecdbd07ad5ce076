"""`manage.py check` says when a notification channel is named but cannot run."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from .channels import CHANNELS


@checks.register()
def channels_configured(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    problems: list[checks.CheckMessage] = []
    for name in settings.LINLI_NOTIFICATION_CHANNELS:
        channel = CHANNELS.get(name)
        if channel is None:
            problems.append(
                checks.Error(
                    f"LINLI_NOTIFICATION_CHANNELS names an unknown channel {name!r}.",
                    hint=f"Known channels: {', '.join(sorted(CHANNELS))}.",
                    id="linli.notifications.E001",
                )
            )
        elif not channel.configured():
            problems.append(
                checks.Warning(
                    f"Notification channel {name!r} is on but has no gateway: it sends nothing.",
                    hint="Set its LINLI_*_GATEWAY_URL (and, for wechat, "
                    "LINLI_WECHAT_TEMPLATE_ID), or remove it from LINLI_NOTIFICATION_CHANNELS.",
                    id="linli.notifications.W001",
                )
            )
    return problems
