"""What the alerts domain adds to the code location (merged in ``pipelines/definitions.py``)."""

from infra.settings import env_int
from pipelines.alerts.jobs import deliver_notifications
from pipelines.alerts.notifier import Notifier
from pipelines.alerts.sensors import alert_matching_sensor, notification_retry_sensor

ALERT_JOBS = [deliver_notifications]
ALERT_SENSORS = [alert_matching_sensor, notification_retry_sensor]
SENSOR_SEND_LIMIT_ENV = "MARKET_PULSE_ALERT_SENSOR_SEND_LIMIT"
ALERT_RESOURCES = {"notifier": Notifier(sensor_send_limit=env_int(SENSOR_SEND_LIMIT_ENV, 20))}
