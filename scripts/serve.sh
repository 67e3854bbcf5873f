#!/usr/bin/env bash
# Serve the site with gunicorn and run the background-job worker beside it; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG="${DEBUG:-0}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
.venv/bin/python manage.py db_worker --queue-name default &
worker=$!
trap 'kill "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true' EXIT INT TERM
echo "一本账 is serving on http://$HOST:$PORT/ (Ctrl-C stops the site and the worker)"
.venv/bin/gunicorn yibenzhang.wsgi:application --bind "$HOST:$PORT" --workers "${WEB_WORKERS:-3}" \
  --access-logfile - --timeout 120
