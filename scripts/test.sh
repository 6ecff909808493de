#!/usr/bin/env bash
# Every test: installs what the tests need that NuGet does not bring (a headless Chromium for the playground
# test), then runs the solution's tests. Extra arguments go to `dotnet test` (e.g. --filter ...).
set -euo pipefail
cd "$(dirname "$0")/.."

have_browser() {
  [[ -n "${QWENASPIRE_BROWSER:-}" && -x "${QWENASPIRE_BROWSER}" ]] && return 0
  for b in chromium chromium-browser google-chrome google-chrome-stable microsoft-edge; do
    command -v "$b" >/dev/null 2>&1 && return 0
  done
  return 1
}

if ! have_browser; then
  if command -v apt-get >/dev/null 2>&1; then
    if [[ "$(id -u)" -eq 0 ]]; then SUDO=(); elif command -v sudo >/dev/null 2>&1; then SUDO=(sudo); else SUDO=(); fi
    if [[ "$(id -u)" -eq 0 || ${#SUDO[@]} -gt 0 ]]; then
      echo "scripts/test.sh: installing Debian's chromium for the playground browser test" >&2
      "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
      "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
  fi
  # No apt or no root: the playground test fails and says which browser to install (it never skips).
  have_browser || echo "scripts/test.sh: no Chromium-based browser found; PlaygroundTests will fail (install chromium or set QWENASPIRE_BROWSER)" >&2
fi

dotnet test QwenAspire.sln -c Release "$@"
