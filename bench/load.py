"""Closed-loop load: workers repeat an operation back to back for a fixed time; what finished in time counts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bench.servers import ServerProcess

T = TypeVar("T")
Worker = TypeVar("Worker")
Item = TypeVar("Item")


@dataclass(frozen=True)
class Run(Generic[T]):
    """The samples of operations completed within the window, and the CPU the server and client spent in it."""

    samples: list[T]
    seconds: float
    server_cpu: float
    client_cpu: float

    @property
    def throughput(self) -> float:
        return len(self.samples) / self.seconds

    @property
    def server_cpu_ms_per_operation(self) -> float:
        return self.server_cpu / len(self.samples) * 1000

    @property
    def client_cpu_ms_per_operation(self) -> float:
        return self.client_cpu / len(self.samples) * 1000


async def closed_loop(
    operations: Sequence[Callable[[], Awaitable[T]]], seconds: float, server: ServerProcess
) -> Run[T]:
    """Run each operation on its own worker, back to back, for ``seconds``; CPU is read at both window edges."""
    loop = asyncio.get_running_loop()
    samples: list[T] = []
    cpu: dict[str, float] = {"server": -server.cpu(), "client": -time.process_time()}
    deadline = loop.time() + seconds
    closed: asyncio.Future[None] = loop.create_future()

    def window_closed() -> None:
        cpu["server"] += server.cpu()
        cpu["client"] += time.process_time()
        closed.set_result(None)

    loop.call_at(deadline, window_closed)

    async def worker(operation: Callable[[], Awaitable[T]]) -> None:
        while loop.time() < deadline:
            sample = await operation()
            if loop.time() <= deadline:
                samples.append(sample)

    await asyncio.gather(*(worker(operation) for operation in operations))
    await closed
    if not samples:
        raise RuntimeError(f"no operation finished within {seconds:g} s")
    return Run(samples, seconds, cpu["server"], cpu["client"])


async def spread(
    items: Iterable[Item], workers: Sequence[Worker], operation: Callable[[Worker, Item], Awaitable[T]]
) -> list[T]:
    """Each worker applies ``operation`` to the next item until none is left; the results in completion order."""
    pending = iter(items)
    results: list[T] = []

    async def work(worker: Worker) -> None:
        for item in pending:
            results.append(await operation(worker, item))

    await asyncio.gather(*(work(worker) for worker in workers))
    return results
