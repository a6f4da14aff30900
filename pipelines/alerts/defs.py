"""What the alerts domain adds to the code location (merged in ``pipelines/definitions.py``)."""

from pipelines.alerts.jobs import deliver_notifications
from pipelines.alerts.sensors import alert_matching_sensor, notification_retry_sensor
from resources.notifier import Notifier

ALERT_JOBS = [deliver_notifications]
ALERT_SENSORS = [alert_matching_sensor, notification_retry_sensor]
ALERT_RESOURCES = {"notifier": Notifier()}
