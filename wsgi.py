from portal import create_app
from portal.config import stop_on_config_error

with stop_on_config_error():
    app = create_app()
