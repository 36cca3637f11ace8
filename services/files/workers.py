"""`check()` in worker processes, with a time limit and a memory limit.

`check_safely()` runs `check()` in a worker process with a time limit and an address-space limit,
so a file that makes a parser spin or swell costs its sender a refusal, not everyone else the bot.
The worker imports this module and the checks it runs only (no aiogram), see `_worker_start`."""

import asyncio
import multiprocessing
import multiprocessing.connection
import os
import resource
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

from services.errors import DomainError
from services.files.content import check
from services.files.kinds import KINDS, CheckedFile, first_checks

CHECK_SECONDS = 8.0  # a 20 MB scan takes well under a second; see bench/files_bench.py
WORKER_MEMORY = 768 * 1024 * 1024  # address space per worker: a 40 Mpx RGBA image is 160 MB decoded


def _worker_start(memory_bytes: int) -> None:
    """Runs once in each worker: cap its address space so a swelling parser gets MemoryError, and
    leave when the bot goes (a killed bot would otherwise leave its idle workers behind)."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def _exit_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(0)


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """multiprocessing makes each new worker import the parent's main module (for `python -m bot`
    it does not, for the `servicestar` script or a bench script it would: aiogram and all, in every
    worker). Workers need nothing from it, so it is hidden while they start."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved: dict[str, Any] = {k: main.__dict__[k] for k in ("__spec__", "__file__") if k in main.__dict__}
    main.__dict__["__spec__"] = None
    main.__dict__.pop("__file__", None)
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


class Inspector:
    """A small pool of worker processes that run `check`. A check that overruns its time gets its
    sender a refusal; the pool (with the stuck worker) is killed and replaced, and checks that were
    running beside it are run again once in the new pool, so nobody else notices beyond a delay."""

    def __init__(
        self, workers: int = 2, timeout: float = CHECK_SECONDS, memory_bytes: int = WORKER_MEMORY
    ) -> None:
        self.workers, self.timeout, self.memory_bytes = workers, timeout, memory_bytes
        self._pool: ProcessPoolExecutor | None = None
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def _free_worker(self) -> asyncio.Semaphore:
        """At most one check per worker is submitted, so the time limit counts running time, not
        time spent queueing behind an album of photos. (One semaphore per event loop: tests run
        several loops.)"""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.workers))
        return self._slots[1]

    def _current(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # forkserver: workers fork from a clean server process that has imported this module
            # only, never the bot's own process (threads, sockets, aiogram).
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_worker_start, initargs=(self.memory_bytes,)
            )
        return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        if self._pool is pool:
            self._pool = None
        processes = getattr(pool, "_processes", None) or {}  # None once shut down
        for process in list(processes.values()):  # no public way to kill workers before 3.14
            if process.is_alive():
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    async def run(self, function: Callable[..., Any], *args: Any, timeout: float | None = None) -> Any:
        """`function(*args)` in a worker; it must be importable by the worker (a module function)."""
        limit = self.timeout if timeout is None else timeout
        async with self._free_worker():
            return await self._attempts(function, args, limit)

    async def _attempts(self, function: Callable[..., Any], args: tuple[Any, ...], limit: float) -> Any:
        for attempt in (1, 2):
            pool = self._current()
            with _main_module_hidden():  # workers are started inside submit()
                future: Future[Any] = pool.submit(function, *args)
            try:
                return await asyncio.wait_for(asyncio.wrap_future(future), limit)
            except TimeoutError:
                self._discard(pool)
                raise DomainError("file.check_timeout", seconds=max(1, round(limit))) from None
            except MemoryError:
                raise DomainError("file.check_failed") from None
            except BrokenProcessPool:
                # A worker died: this file killed it, or another check's timeout replaced the pool.
                self._discard(pool)
                if attempt == 2:
                    raise DomainError("file.check_failed") from None
        raise AssertionError("unreachable")

    async def check(self, data: bytes, declared_name: str, kinds: tuple[str, ...] = KINDS) -> CheckedFile:
        first_checks(data)  # cheap refusals need no worker
        result: CheckedFile = await self.run(check, data, declared_name, kinds)
        return result

    def close(self) -> None:
        if self._pool is not None:
            self._discard(self._pool)


_inspector = Inspector()


async def check_safely(data: bytes, declared_name: str, kinds: tuple[str, ...] = KINDS) -> CheckedFile:
    """`check` in a worker process, with a time and memory limit; every failure is a DomainError."""
    return await _inspector.check(data, declared_name, kinds)
