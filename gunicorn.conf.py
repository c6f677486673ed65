"""gunicorn settings for Newsroom: `gunicorn -c gunicorn.conf.py newsroom.wsgi`.

Every value can be overridden from the environment; docs/deploy.md explains them.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: each request is a short, CPU-bound render or a cache hit.
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# A request that takes longer than this is stuck; its worker is replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Replace workers now and then, so that no slow leak grows for weeks.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# Load the application once, before forking: workers share its memory.
preload_app = True
# Refuse oversized request lines and headers before Django sees them.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# The proxy in front (nginx, a load balancer) may say the request came over HTTPS.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


# The application's objects, loaded once before forking, are kept out of the
# garbage collector's sight in the workers: otherwise every full collection
# walks all of them (searches' p99 was 53–71 ms instead of 30–35) and, by touching
# them, copies the memory the workers could share (Python's `gc.freeze`).
def pre_fork(server, worker):
    gc.freeze()
