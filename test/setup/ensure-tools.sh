#!/usr/bin/env bash
# Real programs some tests drive, from Debian's packages (nothing here can be downloaded any other
# way): Chromium for the dashboard's end-to-end tests through playwright-core (Playwright's own
# browser download cannot run offline), and Prometheus Alertmanager for the notification tests.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/prometheus-alertmanager ] || missing+=(prometheus-alertmanager)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "ensure-tools: installing Debian packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "ensure-tools: need root (or passwordless sudo) to run: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# The alertmanager package would start a system service; tests run their own instance instead.
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
/usr/bin/chromium --version >&2
/usr/bin/prometheus-alertmanager --version 2>&1 | head -n 1 >&2
