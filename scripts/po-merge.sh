#!/usr/bin/env bash
# Merge a .po snippet (new msgids with Polish msgstr) into the main catalog and compile it.
# Usage: bash scripts/po-merge.sh translations/pending/<area>.po
set -euo pipefail
cd "$(dirname "$0")/.."
main=translations/pl/LC_MESSAGES/messages.po
exec 9>/tmp/klientela-po.lock
flock 9
msgcat --use-first -o "$main.new" "$main" "$1"
mv "$main.new" "$main"
.venv/bin/pybabel compile -f -d translations >/dev/null
echo "merged $1 into $main"
