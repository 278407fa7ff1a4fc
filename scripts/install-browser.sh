#!/usr/bin/env bash
# Installs what tests/browser needs: Debian's headless Chromium + chromedriver, and a local copy of
# the @jupyter-widgets/html-manager bundle (embed.js) so embedded widget pages render offline.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
PKGS=""
command -v chromium >/dev/null || PKGS="$PKGS chromium"
command -v chromedriver >/dev/null || PKGS="$PKGS chromium-driver"
VENDOR="${BITRIX_FRAMES_VENDOR:-$HOME/.cache/bitrix-frames/html-manager}"
[ -f "$VENDOR/dist/embed.js" ] || command -v npm >/dev/null || PKGS="$PKGS npm"
if [ -n "$PKGS" ]; then
  $SUDO apt-get update -q
  # shellcheck disable=SC2086
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $PKGS
fi
if [ ! -f "$VENDOR/dist/embed.js" ]; then
  mkdir -p "$VENDOR"
  TMP="$(mktemp -d)"
  (cd "$TMP" && npm pack --silent @jupyter-widgets/html-manager@1 >/dev/null)
  tar -xzf "$TMP"/jupyter-widgets-html-manager-*.tgz -C "$VENDOR" --strip-components=1
  rm -rf "$TMP"
fi
echo "browser: $(command -v chromium), html-manager: $VENDOR/dist/embed.js"
