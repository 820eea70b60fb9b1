#!/usr/bin/env bash
# Planted cheats and honest controls, for the judge's calibration: the config entry's
# options ({"cheat": VARIANT, ...}) choose one behaviour of agents/cheat/cheat.py (its VARIANTS
# list says which check each must trip).
set -euo pipefail
exec python "$(dirname "$0")/cheat.py"
