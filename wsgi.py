from portal import create_app
from portal.config import stop_on_config_error
from portal.port_requests.addresses import load_zip_list

with stop_on_config_error():
    app = create_app()
# gunicorn preloads this module in its master (gunicorn.conf.py): what is loaded here the
# workers share instead of each paying for it on its first request.
load_zip_list()
