"""Typed configuration: environment variables (``CALLBRIDGE_…``) and an optional TOML file; secrets stay secret."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

REAL_CALLBACK_ISSUER = "https://acscallautomation.communication.azure.com"
REAL_CALLBACK_JWKS = "https://acscallautomation.communication.azure.com/calling/keys"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class Fallback(BaseModel):
    """What to do when nobody answers: transfer the caller to a number, or hang up."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["hangup", "transfer"] = "hangup"
    number: str | None = None

    @model_validator(mode="after")
    def _number_for_transfer(self) -> Fallback:
        if self.action == "transfer" and (self.number is None or not E164.match(self.number)):
            raise ValueError("a transfer fallback needs number, an E.164 phone number such as +14255550123")
        return self


class RoutingRule(BaseModel):
    """For calls to ``number`` (``*`` for any): answer, then ring ``targets`` (names, UPNs or object ids)."""

    model_config = ConfigDict(extra="forbid")

    number: str = "*"
    targets: list[str] = Field(default_factory=list)
    source_display_name: str | None = None
    strategy: Literal["first-available", "simultaneous", "none"] = "first-available"
    ring_timeout_seconds: Annotated[int, Field(ge=1, le=180)] = 30
    fallback: Fallback = Field(default_factory=Fallback)

    @field_validator("number")
    @classmethod
    def _number(cls, value: str) -> str:
        if value != "*" and not E164.match(value):
            raise ValueError(f"number must be * or an E.164 phone number such as +18005550100, got {value!r}")
        return value

    def matches(self, called: str) -> bool:
        return self.number in ("*", called)


class ServiceSettings(BaseSettings):
    """Everything the service needs to reach ACS, Graph and its state store, and how to route calls.

    Set as environment variables with the ``CALLBRIDGE_`` prefix (nested with ``__``), or in a TOML file
    named by ``CALLBRIDGE_CONFIG``.
    """

    model_config = SettingsConfigDict(env_prefix="CALLBRIDGE_", env_nested_delimiter="__", extra="ignore")

    acs_connection_string: SecretStr | None = None
    acs_endpoint: str | None = None
    acs_ca_file: Path | None = None
    acs_immutable_resource_id: str | None = None
    callback_issuer: str = REAL_CALLBACK_ISSUER
    callback_jwks_url: str = REAL_CALLBACK_JWKS
    callback_jwks_ca_file: Path | None = None
    public_base_url: str | None = None
    graph_tenant_id: str | None = None
    graph_client_id: str | None = None
    graph_client_secret: SecretStr | None = None
    graph_authority: str = "https://login.microsoftonline.com"
    graph_base_url: str = "https://graph.microsoft.com/v1.0"
    graph_disable_instance_discovery: bool = False
    graph_ca_file: Path | None = None
    store_url: str = "sqlite:///.callbridge/service.db"
    operator_api_key: SecretStr | None = None
    eventgrid_secret: SecretStr | None = None
    routes: list[RoutingRule] = Field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 7090

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then environment, then the TOML file named by CALLBRIDGE_CONFIG."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("CALLBRIDGE_CONFIG")
        if config_file:
            if not Path(config_file).is_file():
                raise ValueError(f"CALLBRIDGE_CONFIG names {config_file}, which does not exist")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    @field_validator("public_base_url")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("public_base_url must be an absolute http(s) URL that ACS can reach")
        return value.rstrip("/") if value else None

    def rule_for(self, called_number: str) -> RoutingRule | None:
        """The first rule for the called number, else None (an unconfigured service answers nothing)."""
        return next((rule for rule in self.routes if rule.matches(called_number)), None)

    @property
    def acs_configured(self) -> bool:
        return self.acs_connection_string is not None or self.acs_endpoint is not None

    @property
    def graph_configured(self) -> bool:
        return bool(self.graph_tenant_id and self.graph_client_id)

    def describe(self) -> dict[str, object]:
        """The settings with every secret masked, for logs and `doctor`."""
        return {
            key: ("********" if isinstance(value, SecretStr) and value.get_secret_value() else value)
            for key, value in self
            if key != "routes"
        } | {"routes": [r.model_dump() for r in self.routes]}
