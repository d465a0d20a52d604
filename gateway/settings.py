"""Typed gateway settings read from ``WERKPLEK_*`` environment variables; fail fast."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Literal

from pydantic import Field, FilePath, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from common.mqtt_tls import check_settings, client_context
from common.mqtt_url import BrokerAddress, parse_mqtt_url
from contract import is_valid_id
from history.settings import HistorySettings

__all__ = ["BrokerAddress", "GatewaySettings", "parse_mqtt_url"]


class GatewaySettings(HistorySettings):
    """All knobs of one gateway process; invalid values stop start-up at once.

    The history store's variables (``WERKPLEK_INFLUX_*``, ``WERKPLEK_HISTORY_PATH``,
    the retention periods) and their validation come from the shared
    :class:`history.settings.HistorySettings`, which the backend's settings use too.
    """

    model_config = SettingsConfigDict(env_prefix="WERKPLEK_", extra="ignore", frozen=True)

    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_protocol: Literal["5", "3.1.1"] = "5"
    #: With ``mqtts://``: the CA (PEM) the broker's certificate must chain to (unset: the
    #: system's CAs); a client certificate and key (PEM) only for a broker that asks for one.
    mqtt_ca_file: FilePath | None = None
    mqtt_cert_file: FilePath | None = None
    mqtt_key_file: FilePath | None = None
    gateway_id: str = "gw-1"
    state_dir: Path = Path("var")
    stale_after_s: float = Field(default=180.0, gt=0)
    batch_size: int = Field(default=1000, ge=1, le=50_000)
    batch_linger_ms: int = Field(default=200, ge=0, le=60_000)
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    #: How often stale devices are looked for; staleness shows at most this late.
    tick_interval_ms: int = Field(default=1000, ge=10, le=60_000)
    #: Capacity of the on-disk spool used while the history store is down; the oldest go first.
    max_buffered_points: int = Field(default=1_000_000, ge=1)
    #: How often each device's health record is republished at most.
    health_interval_s: float = Field(default=30.0, gt=0, le=86_400)
    #: ``all``: one gateway does everything; ``history``: one of several gateways sharing
    #: device messages ($share) for history only; ``live``: live state and health only.
    gateway_role: Literal["all", "history", "live"] = "all"
    #: Shared-subscription group of the ``history`` gateways.
    share_group: str = "werkplek-history"
    #: Rejections logged per minute at most; the rest are only counted and dead-lettered.
    rejection_log_per_min: int = Field(default=60, ge=0)
    #: ``text`` for people, ``json`` (one object per line) for log shippers.
    log_format: Literal["text", "json"] = "text"
    #: How often the history store's retention policies are checked again.
    retention_check_s: float = Field(default=3600.0, gt=0)
    #: ``werkplek healthcheck gateway`` fails once the broker link is down this long.
    health_max_disconnected_s: float = Field(default=60.0, gt=0)

    @field_validator("mqtt_url")
    @classmethod
    def _check_mqtt_url(cls, value: str) -> str:
        parse_mqtt_url(value)
        return value

    @field_validator("gateway_id")
    @classmethod
    def _check_gateway_id(cls, value: str) -> str:
        if not is_valid_id(value):
            raise ValueError("gateway_id must match ^[a-z0-9][a-z0-9-]{0,62}$")
        return value

    @field_validator("share_group")
    @classmethod
    def _check_share_group(cls, value: str) -> str:
        if not is_valid_id(value.replace("_", "-")):
            raise ValueError("share_group must be letters, digits, '-' or '_'")
        return value

    @model_validator(mode="after")
    def _check_mqtt_tls(self) -> GatewaySettings:
        check_settings(self.broker.tls, self.mqtt_ca_file, self.mqtt_cert_file, self.mqtt_key_file)
        return self

    @property
    def failover(self) -> bool:
        """Whether this gateway takes part in the live-state lease (role ``live``).

        Two ``live`` gateways fail over between each other; an ``all`` gateway
        is the only one of its deployment and publishes at once.
        """
        return self.gateway_role == "live"

    @property
    def broker(self) -> BrokerAddress:
        """The parsed broker address."""
        return parse_mqtt_url(self.mqtt_url)

    def mqtt_tls(self) -> ssl.SSLContext | None:
        """The TLS context for an ``mqtts://`` broker; None for a plain one."""
        if not self.broker.tls:
            return None
        return client_context(self.mqtt_ca_file, self.mqtt_cert_file, self.mqtt_key_file)

    @property
    def client_id(self) -> str:
        """The fixed MQTT client id; fixed so the persistent session survives restarts."""
        return f"werkplek-gateway-{self.gateway_id}"
