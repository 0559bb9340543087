import pytest

from tests.fakes.webhook_receiver import Receiver, start_receiver
from webhooks.models import Event
from webhooks.services import endpoint_create


@pytest.fixture
def receiver():
    """A verifying receiver on 127.0.0.1; give it an endpoint's secret before sending."""
    receiver, server = start_receiver(Receiver())
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint(receiver, db):
    """An endpoint for every event, pointed at the receiver, which knows its secret."""
    endpoint = endpoint_create(url=receiver.url, events=Event.values)
    receiver.secret = endpoint.secret
    return endpoint
