#!/usr/bin/env bash
# Serve the site with gunicorn and run the background-job worker beside it; Ctrl-C stops both.
# gunicorn's settings (workers, threads, keep-alive) are in scripts/gunicorn.conf.py, shared with the
# benchmark; WEB_WORKERS, WEB_THREADS, WEB_WORKER_CLASS override them.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG="${DEBUG:-0}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
.venv/bin/python manage.py db_worker --queue-name default &
worker=$!
trap 'kill "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true' EXIT INT TERM
echo "一本账 is serving on http://$HOST:$PORT/ (Ctrl-C stops the site and the worker)"
.venv/bin/gunicorn yibenzhang.wsgi:application --config scripts/gunicorn.conf.py --bind "$HOST:$PORT"
