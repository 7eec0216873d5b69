#!/usr/bin/env bash
# Installs everything coachgym needs on a fresh Debian machine: system packages (Chromium for the
# browser and phone envs, bubblewrap for the shell sandbox, MariaDB and PostgreSQL servers for the
# database env) and the Python package with its pinned stack. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

APT_PACKAGES=(chromium chromium-driver bubblewrap mariadb-server postgresql fonts-dejavu-core
              git curl wget zip unzip tree vim-tiny python3 debootstrap)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
echo "[setup] pip install coachgym (constraints.txt pins torch)"
"$PYTHON" -m pip install -q --upgrade pip >/dev/null
"$PYTHON" -m pip install -q -c constraints.txt -e ".[dev]"
echo "[setup] shell sandbox base (debootstrap, once)"
$SUDO "$PYTHON" -m coachgym.envs.shell.rootfs build || echo "[setup] warning: no rootfs; the shell env uses the host base"
echo "[setup] done: try 'coachgym quickstart'"
