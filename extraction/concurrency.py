"""A per-provider limit on calls in flight, shared by every worker through Redis.

A counting semaphore on a Redis sorted set (the pattern of "Redis in Action", 6.3.2): each holder
is a member scored by its lease's expiry, taken and counted in one Lua script so that two workers
never both take the last slot. A holder renews its lease while its call runs; a worker that dies
holding a slot loses it when the lease ends, so a crash never shrinks the limit for long. Without
a reachable Redis (the one-machine setup with the filesystem broker) the limit holds inside this
process only.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

logger = logging.getLogger(__name__)

KEY_PREFIX = "attest:provider-slots:"
POLL_SECONDS = 0.05

# KEYS[1]: the set. ARGV: limit, lease seconds, token. The server's clock scores every lease,
# so workers on machines whose clocks differ still agree on which leases have ended.
_ACQUIRE = """
local now = redis.call('TIME')
local now_s = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_s)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now_s + tonumber(ARGV[2]), ARGV[3])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 60)
  return 1
end
return 0
"""


# KEYS[1]: the set. ARGV: lease seconds, token. Pushes a held slot's lease on; a slot whose lease
# already ended (and was taken by another) is not brought back.
_RENEW = """
local now = redis.call('TIME')
local now_s = tonumber(now[1]) + tonumber(now[2]) / 1000000
return redis.call('ZADD', KEYS[1], 'XX', 'CH', now_s + tonumber(ARGV[1]), ARGV[2])
"""


class SlotTimeout(Exception):
    """No slot came free in time: the provider is saturated by other workers."""


_local_semaphores: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_local_lock = threading.Lock()


class ProviderSlots:
    """``with slots.hold():`` around each provider call; at most ``limit`` at once everywhere."""

    def __init__(self, *, name: str, limit: int, redis_url: str = "", lease_seconds: float = 300):
        self.name = name
        self.limit = max(1, limit)
        self.lease_seconds = lease_seconds
        self.key = KEY_PREFIX + name
        self._redis = _client(redis_url) if redis_url else None
        self._script = self._redis.register_script(_ACQUIRE) if self._redis else None

    @contextmanager
    def hold(self, *, wait_seconds: float) -> Iterator[None]:
        client, script = self._redis, self._script
        if client is None or script is None:
            semaphore = _local_semaphore(self.name, self.limit)
            if not semaphore.acquire(timeout=wait_seconds):
                raise SlotTimeout(self.name)
            try:
                yield
            finally:
                semaphore.release()
            return
        token = uuid.uuid4().hex
        deadline = time.monotonic() + wait_seconds
        try:
            while not script(keys=[self.key], args=[self.limit, self.lease_seconds, token]):
                if time.monotonic() >= deadline:
                    raise SlotTimeout(self.name)
                time.sleep(POLL_SECONDS)
        except redis.RedisError:
            # Redis went away (a broker outage): the limit holds in this process meanwhile.
            logger.warning("Redis is not reachable; the %s limit holds per process", self.name)
            self._redis = self._script = None
            with self.hold(wait_seconds=max(deadline - time.monotonic(), 0)):
                yield
            return
        # Renewed while the call runs, so that the lease can be short: a slot whose holder was
        # killed comes free within one lease, however long calls may take.
        stop = threading.Event()
        renewer = threading.Thread(
            target=self._renew, args=(client, token, stop), name="slot-renew", daemon=True
        )
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            try:
                client.zrem(self.key, token)
            except redis.RedisError:
                # The slot comes free when its lease ends; the reading itself succeeded.
                logger.warning("Could not free a %s slot; its lease frees it", self.name)

    def _renew(self, client: redis.Redis, token: str, stop: threading.Event) -> None:
        script = client.register_script(_RENEW)
        while not stop.wait(self.lease_seconds / 3):
            try:
                script(keys=[self.key], args=[self.lease_seconds, token])
            except redis.RedisError:
                logger.warning("Could not renew a %s slot", self.name)

    def in_use(self) -> int:
        """Slots held right now (leases that have ended are not counted)."""
        if self._redis is None:
            return 0
        now = self._redis.time()
        return self._redis.zcount(self.key, now[0] + now[1] / 1_000_000, "+inf")


def _client(url: str) -> redis.Redis | None:
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        logger.warning("Redis at %s is not reachable; provider limits hold per process.", url)
        return None
    return client


def _local_semaphore(name: str, limit: int) -> threading.BoundedSemaphore:
    with _local_lock:
        return _local_semaphores.setdefault((name, limit), threading.BoundedSemaphore(limit))
