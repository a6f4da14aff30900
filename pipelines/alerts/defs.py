"""What the alerts domain adds to the code location: the matching and retry sensors, the delivery
job, the notifier and the admins' notification targets (merged in ``pipelines/definitions.py``)."""

from dagster import Definitions

from infra.settings import AlertSettings
from pipelines.alerts.admin import AdminTargets
from pipelines.alerts.jobs import deliver_notifications
from pipelines.alerts.notifier import Notifier
from pipelines.alerts.sensors import build_alert_sensors


def build_defs(settings: AlertSettings) -> Definitions:
    return Definitions(
        jobs=[deliver_notifications],
        sensors=build_alert_sensors(settings),
        resources={"notifier": Notifier(sensor_send_limit=settings.sensor_send_limit,
                                        listings_step_alerts=settings.listings_step),
                   # a plain object, not Dagster config: the URLs may hold secrets and never show in the UI
                   "admin_targets": AdminTargets.from_urls(settings.admin_targets)},
    )
