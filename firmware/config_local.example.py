"""Site and device settings for one ESP32 node; copy to config_local.py (git-ignored).

Keys are those of wp_config.DEFAULTS plus the board keys below.
"""

WIFI_SSID = "my-office-wifi"
WIFI_PASSWORD = "change-me"
NTP_HOST = "pool.ntp.org"
PIR_PIN = 27
WDT_MS = 30000

CONFIG = {
    "device_id": "d-0001",
    "site": "hq",
    "broker_host": "192.0.2.10",
    "broker_port": 1883,
    "username": "d-0001",
    "password": "change-me",
    "source": "pir",
    "space_type": "desk",
}
