"""The service on its socket, in the foreground (`callbridge serve`) or on a background thread (tests, `up`)."""

from __future__ import annotations

from types import TracebackType

from callbridge.service.app import Service, create_app
from callbridge.service.settings import ServiceSettings
from callbridge.serving import BackgroundLoop, Listener, Serving, bind, url_of, wait_until


class ServiceServer:
    """Binds the listening socket first, so the URL is known before anything starts."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.sock = bind(settings.host, settings.port)
        self.url = url_of(self.sock, "http")
        if settings.public_base_url is None:
            settings = settings.model_copy(update={"public_base_url": self.url})
        self.settings = settings
        self.service: Service | None = None
        self.serving: Serving | None = None

    async def run(self) -> None:
        """Start the service, serve until ``stop``, then close it."""
        self.service = await Service.start(self.settings)
        try:
            self.serving = Serving([Listener(create_app(self.service), self.sock)])
            await self.serving.run()
        finally:
            await self.service.close()

    @property
    def started(self) -> bool:
        return self.serving is not None and self.serving.started

    def stop(self) -> None:
        if self.serving is not None:
            self.serving.stop()
        else:
            self.sock.close()


class RunningService:
    """A service on a background thread; a context manager for tests and `callbridge up`."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.server = ServiceServer(settings)
        self.loop = BackgroundLoop("callbridge-service")
        self._task = self.loop.submit(self.server.run())
        try:
            self.loop.call(wait_until(lambda: self.server.started or self._task.done(), 60, "the service to start"))
        except BaseException:
            self.loop.close()
            raise
        if self._task.done():
            self._task.result()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def service(self) -> Service:
        assert self.server.service is not None
        return self.server.service

    def close(self) -> None:
        self.loop.run_sync(self.server.stop)
        self._task.result(30)
        self.loop.close()

    def __enter__(self) -> RunningService:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
