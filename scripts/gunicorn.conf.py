"""gunicorn's settings for 一本账, read by scripts/serve.sh (``make run``) and by bench/bench_outbreak.py,
so that what the benchmark measures is what is served. The environment may override each one.

Four sync worker processes on two cores (measured with bench_outbreak.py, 200 crossings a second,
23 November 2026; see bench/README.md): each request has a process to itself, so no request waits
for another's Python (the GIL); the tail was best here: p99 22-30 ms against 40-50 ms for 3 gthread
workers x 4 threads and 27-42 ms for 5 sync workers, at the same CPU per request. Sync workers close
the connection after each response and wait for slow uploads: behind a buffering proxy (nginx) that
costs nothing; serving phones on slow networks directly, WEB_WORKER_CLASS=gthread (with WEB_THREADS)
keeps connections alive and a slow phone from holding a process.
"""

import os

workers = int(os.environ.get("WEB_WORKERS", "4"))
worker_class = os.environ.get("WEB_WORKER_CLASS", "sync")
threads = int(os.environ.get("WEB_THREADS", "1"))  # threads per worker: gthread only
keepalive = int(os.environ.get("WEB_KEEPALIVE", "5"))  # seconds an idle connection is kept: gthread only
timeout = int(os.environ.get("WEB_TIMEOUT", "120"))
accesslog = os.environ.get("WEB_ACCESS_LOG", "-") or None  # one line per request on stdout; "" turns it off
