import os
from pathlib import Path

from celery import Celery

from config import file_broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

file_broker.register()
app = Celery("pingan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_file_broker_folders(sender: Celery, **kwargs) -> None:
    """The embedded default's broker keeps its queue in folders, which kombu expects to exist. Made here, in the
    processes that use the broker, rather than when settings are imported (production's processes import them too).
    """
    if sender.conf.broker_url.startswith(f"{file_broker.SCHEME}://"):
        options = sender.conf.broker_transport_options
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
