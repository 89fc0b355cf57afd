#!/usr/bin/env bash
# Start Waypoint on SQLite: migrate, load demo data into an empty database, then run the
# web server and a task worker together until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
export WAYPOINT_DEBUG="${WAYPOINT_DEBUG:-1}" WAYPOINT_EMULATORS="${WAYPOINT_EMULATORS:-1}"
waypoint=.venv/bin/waypoint
address="${WAYPOINT_ADDRESS:-127.0.0.1:8000}"
if [[ "${WAYPOINT_EMULATORS,,}" =~ ^(1|true|yes|on)$ ]]; then
  # PLR downloads talk to the LRS emulator this server mounts, with test credentials it accepts
  # (it checks them against these same settings); values already in the environment win (docs/lrs-emulator.md).
  export WAYPOINT_LRS_URL="${WAYPOINT_LRS_URL:-http://$address/emulators/lrs/LearnerServiceR9.svc}"
  export WAYPOINT_LRS_UKPRN="${WAYPOINT_LRS_UKPRN:-10012345}" WAYPOINT_LRS_USERNAME="${WAYPOINT_LRS_USERNAME:-waypoint-demo}"
  export WAYPOINT_LRS_PASSWORD="${WAYPOINT_LRS_PASSWORD:-demo-lrs-password}" WAYPOINT_LRS_VENDOR_ID="${WAYPOINT_LRS_VENDOR_ID:-3}"
  # The demo's EPA platform connections send to the EPA emulator this server mounts; their credential setting
  # names WAYPOINT_EPA_DEMO_TOKEN, and the emulator accepts the same token (docs/epa-connector.md).
  export WAYPOINT_EPA_DEMO_TOKEN="${WAYPOINT_EPA_DEMO_TOKEN:-demo-epa-token}"
  export WAYPOINT_EPA_TOKEN="${WAYPOINT_EPA_TOKEN:-$WAYPOINT_EPA_DEMO_TOKEN}"
  export WAYPOINT_EPA_EMULATOR_TOKEN="${WAYPOINT_EPA_EMULATOR_TOKEN:-$WAYPOINT_EPA_DEMO_TOKEN}"
fi

$waypoint migrate --noinput -v 0
$waypoint demo --if-empty --learners "${WAYPOINT_DEMO_LEARNERS:-300}" -v 0

trap 'trap - INT TERM EXIT; kill 0 2>/dev/null; wait 2>/dev/null' INT TERM EXIT
$waypoint db_worker &
$waypoint runserver "$address" --noreload &
sleep 2
cat <<MSG

Waypoint is running at http://$address/
  API docs:  http://$address/api/v1/docs
  Admin:     http://$address/admin/
  LRS:       ${WAYPOINT_LRS_URL:-not configured}
  EPA:       http://$address/emulators/epa/_control/state?summary=1 (emulator)
MSG
$waypoint demo_logins
echo "Press Ctrl-C to stop the web server and the worker."
wait
