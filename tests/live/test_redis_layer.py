"""With REDIS_URL, pushes travel through Redis (channels-redis) between processes.

Runs against the Redis at 127.0.0.1:6379 when one answers (CI machines have it)."""

import socket

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers, get_channel_layer

from pingan.incidents.models import IncidentEvent
from pingan.live.groups import org_group
from tests.incidents.helpers import report_at
from tests.live.layer import body

REDIS = ("127.0.0.1", 6379)


def redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=0.5):
            return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not redis_answers(), reason="no Redis at 127.0.0.1:6379"),
]


@pytest.fixture
def redis_layer(settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:6379/14"], "prefix": "pingan-test"},
        }
    }
    channel_layers.backends.clear()
    yield get_channel_layer()
    channel_layers.backends.clear()


def test_an_event_published_in_one_layer_is_received_from_redis(world, redis_layer):
    receive_channel = async_to_sync(redis_layer.new_channel)()
    async_to_sync(redis_layer.group_add)(org_group(world.station_a.pk), receive_channel)
    try:
        # The fan-out (inline under the tests) sends through whichever layer is configured.
        incident = report_at().incident
        event = IncidentEvent.objects.filter(incident=incident).order_by("pk").first()
        message = body(async_to_sync(redis_layer.receive)(receive_channel))
        assert message["type"] == "push.event"
        assert message["id"] == event.pk
        assert message["incident"]["code"] == incident.code
    finally:
        async_to_sync(redis_layer.group_discard)(org_group(world.station_a.pk), receive_channel)
