"""Telegram's limits are the bot's, not a process's: ~30 messages/s overall, 1/s per chat and
20/min per group, and a 429's retry_after pauses every sender. With several workers (REDIS_URL
set) the outbox senders share one pace in Redis: a token bucket kept by a script that reads the
server's clock (the workers' clocks need not agree), a slot per chat, and one pause."""

import asyncio

from redis.asyncio import Redis

# One token a call; returns the seconds to wait (0: granted). Numbers go back as text: Redis
# truncates Lua numbers to integers.
BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 60000)
return tostring(wait)
"""


def chat_interval(chat_id: int, per_chat: float = 1.0) -> float:
    """Seconds between two messages to one chat: groups (negative ids) take 20 a minute."""
    return max(per_chat, 3.0) if chat_id < 0 else per_chat


class SharedPace:
    def __init__(
        self, redis: Redis, rate: float, burst: float = 1.0, prefix: str = "servicestar:pace"
    ) -> None:
        self.redis, self.rate, self.burst, self.prefix = redis, rate, burst, prefix
        self._bucket = redis.register_script(BUCKET)

    async def acquire(self) -> None:
        while (
            wait := float(await self._bucket(keys=[f"{self.prefix}:bucket"], args=[self.rate, self.burst]))
        ) > 0:
            await asyncio.sleep(wait)

    async def take_chat(self, chat_id: int, per_chat: float = 1.0) -> float:
        """Claim the chat's next slot: 0 when taken now, else the seconds until it is free."""
        key = f"{self.prefix}:chat:{chat_id}"
        if await self.redis.set(key, "1", nx=True, px=int(chat_interval(chat_id, per_chat) * 1000)):
            return 0.0
        return max(0.0, int(await self.redis.pttl(key)) / 1000)

    async def pause(self, seconds: float) -> None:
        key = f"{self.prefix}:pause"
        remaining = int(await self.redis.pttl(key))
        if remaining < seconds * 1000:
            await self.redis.set(key, "1", px=max(1, int(seconds * 1000)))

    async def paused_for(self) -> float:
        return max(0.0, int(await self.redis.pttl(f"{self.prefix}:pause")) / 1000)
