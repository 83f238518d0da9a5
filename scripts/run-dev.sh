#!/usr/bin/env bash
# `make run`: start the local fake KSeF and fake PayU in the background, then the app; stopping the app stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
KSEF_FAKE_PORT=${KSEF_FAKE_PORT:-5081}
export KSEF_FAKE_PORT
PAYU_FAKE_PORT=${PAYU_FAKE_PORT:-5082}
export PAYU_FAKE_PORT
DEMO_NIP=$($BIN/python -c 'from app.services.platform.demo import DEMO_NIP; print(DEMO_NIP)')
DEMO_TOKEN=$($BIN/python -c 'from app.services.platform.demo import DEMO_KSEF_TOKEN; print(DEMO_KSEF_TOKEN)')

$BIN/python -m tests.fakes.ksef --host 127.0.0.1 --port "$KSEF_FAKE_PORT" --token "$DEMO_NIP=$DEMO_TOKEN" &
FAKE_PID=$!
# the fake PayU with the credentials DevelopmentConfig uses (PAYU_* in config.py); the demo owner pays offline
PAYU_CONFIG=$($BIN/python -c 'from config import DevelopmentConfig as c; print(c.PAYU_POS_ID, c.PAYU_CLIENT_ID, c.PAYU_CLIENT_SECRET, c.PAYU_SECOND_KEY)')
read -r PAYU_POS PAYU_CLIENT PAYU_SECRET PAYU_KEY <<<"$PAYU_CONFIG"
PAYU_CLIENT_SECRET="$PAYU_SECRET" PAYU_SECOND_KEY="$PAYU_KEY" $BIN/python -m tests.fakes.payu --host 127.0.0.1 \
    --port "$PAYU_FAKE_PORT" --pos-id "$PAYU_POS" --client-id "$PAYU_CLIENT" &
PAYU_PID=$!
trap 'kill "$FAKE_PID" "$PAYU_PID" 2>/dev/null || true' EXIT INT TERM

$BIN/flask crm init
$BIN/flask crm demo
echo "Klientela: http://$HOST:$PORT/  (fake KSeF: http://127.0.0.1:$KSEF_FAKE_PORT/v2, fake PayU: http://127.0.0.1:$PAYU_FAKE_PORT)"
$BIN/flask run --host "$HOST" --port "$PORT"
