"""How a local cloud is set up: where it listens, where it keeps state, how its time and signalling run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from callbridge.emulator.acs.callbacks import ISSUER
from callbridge.emulator.delivery.retries import CallbackPolicy, RetryPolicy

DEFAULT_HTTPS_PORT = 7443
DEFAULT_HTTP_PORT = 7080


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything ``callbridge emulator`` takes on its command line, with the defaults a laptop wants."""

    data_dir: Path = Path(".callbridge/emulator")
    host: str = "127.0.0.1"
    https_port: int = DEFAULT_HTTPS_PORT
    http_port: int = DEFAULT_HTTP_PORT
    seed: str = "none"
    clock: str = "real"
    profile: str = "instant"
    seed_ids: int | None = None
    hmac_skew_seconds: float = 900.0
    callback_issuer: str = ISSUER
    callback_policy: CallbackPolicy = field(default_factory=CallbackPolicy)
    eventgrid_policy: RetryPolicy = field(default_factory=RetryPolicy)
    incoming_call_window_seconds: float | None = None
