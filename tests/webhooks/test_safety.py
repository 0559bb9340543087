"""Where webhooks may go (webhooks/safety.py) and which queue carries them."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError

from webhooks.safety import url_check


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/hook", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "scheme"),
        ("https:///no-host", "host"),
        ("https://user:pass@example.com/hook", "credentials"),
    ],
)
def test_only_plain_http_and_https_urls_are_accepted(url, code):
    with pytest.raises(ValidationError) as error:
        url_check(url)
    assert error.value.code == code


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.5/hook",
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_private_and_local_addresses_are_refused_unless_allowed(settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ValidationError) as error:
        url_check(url)
    assert error.value.code == "private"
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    url_check(url)


def test_a_public_address_is_accepted(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    url_check("https://93.184.215.14/hook")  # a literal address: no DNS needed


def test_deliveries_run_on_their_own_queue():
    from config.celery import app

    route = app.amqp.router.route({}, "webhooks.deliver")
    assert route["queue"].name == django_settings.WEBHOOK_QUEUE
    assert django_settings.WEBHOOK_QUEUE != django_settings.CELERY_TASK_DEFAULT_QUEUE
    assert app.amqp.router.route({}, "extraction.process_document")["queue"].name == (
        django_settings.CELERY_TASK_DEFAULT_QUEUE
    )
