#!/usr/bin/env bash
# `make run`: start the local fake KSeF in the background, then the app; stopping the app stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
KSEF_FAKE_PORT=${KSEF_FAKE_PORT:-5081}
export KSEF_FAKE_PORT
DEMO_NIP=$($BIN/python -c 'from app.services.platform.demo import DEMO_NIP; print(DEMO_NIP)')
DEMO_TOKEN=$($BIN/python -c 'from app.services.platform.demo import DEMO_KSEF_TOKEN; print(DEMO_KSEF_TOKEN)')

$BIN/python -m tests.fakes.ksef --host 127.0.0.1 --port "$KSEF_FAKE_PORT" --token "$DEMO_NIP=$DEMO_TOKEN" &
FAKE_PID=$!
trap 'kill "$FAKE_PID" 2>/dev/null || true' EXIT INT TERM

$BIN/flask crm init
$BIN/flask crm demo
echo "Klientela: http://$HOST:$PORT/  (fake KSeF: http://127.0.0.1:$KSEF_FAKE_PORT/v2)"
$BIN/flask run --host "$HOST" --port "$PORT"
