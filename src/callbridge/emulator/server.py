"""A local cloud bound to its HTTPS and HTTP sockets, in the foreground or on a background thread."""

from __future__ import annotations

from types import TracebackType

from callbridge.emulator.app import create_app
from callbridge.emulator.cloud import LocalCloud, Urls
from callbridge.emulator.config import EmulatorConfig
from callbridge.serving import BackgroundLoop, Listener, Serving, bind, url_of, wait_until


class EmulatorServer:
    """Binds the listeners first (so ports and URLs are known), then builds the cloud behind them."""

    def __init__(self, config: EmulatorConfig) -> None:
        https = bind(config.host, config.https_port)
        try:
            http = bind(config.host, config.http_port)
        except OSError:
            https.close()
            raise
        self.cloud = LocalCloud(config, Urls(url_of(https, "https"), url_of(http, "http")))
        app = create_app(self.cloud)
        certs = self.cloud.certificates
        self.serving = Serving([Listener(app, https, certs.server_cert, certs.server_key), Listener(app, http)])

    async def run(self) -> None:
        """Serve until ``stop``; then finish deliveries and close."""
        try:
            await self.serving.run()
        finally:
            await self.cloud.aclose()

    def stop(self) -> None:
        self.serving.stop()


class RunningEmulator:
    """An emulator on a background thread; tests and ``callbridge up`` use it as a context manager."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.loop = BackgroundLoop("callbridge-emulator")
        try:
            self.server = EmulatorServer(config)
        except BaseException:
            self.loop.close()
            raise
        self._task = self.loop.submit(self.server.run())
        self.loop.call(wait_until(lambda: self.server.serving.started or self._task.done()))
        if self._task.done():
            self._task.result()

    @property
    def cloud(self) -> LocalCloud:
        return self.server.cloud

    def close(self) -> None:
        self.loop.run_sync(self.server.stop)
        self._task.result(15)
        self.loop.close()

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
