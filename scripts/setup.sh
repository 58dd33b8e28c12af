#!/usr/bin/env bash
# Install everything pnetc needs on a fresh Debian/Ubuntu machine, then create .venv.
# Idempotent: it installs only what is missing. Used by demo.sh, test.sh and CI.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv python3-pip gcc clang make cmake binutils
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm qemu-user
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
  cppcheck clang-tidy libclang-rt-14-dev valgrind bubblewrap
  dataset-fashion-mnist
  fortunes fortunes-de fortunes-es fortunes-it fortunes-pl fortunes-ru fortunes-cs
  fortunes-br fortunes-bg fortunes-eo fortunes-ga
  manpages manpages-de manpages-es manpages-it manpages-pl manpages-ru manpages-cs manpages-pt-br
  protobuf-compiler libprotobuf-dev
)

# The langid out-of-domain set reads the package description translations, apt index files
# that apt fetches only for the configured languages.
APT_LANGUAGES_CONF=/etc/apt/apt.conf.d/99pnetc-description-translations
if [ ! -f "$APT_LANGUAGES_CONF" ]; then
  echo "setup: configuring apt to fetch package description translations" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  printf '%s\n' '#clear Acquire::Languages;' \
    'Acquire::Languages { "en"; "bg"; "cs"; "de"; "eo"; "es"; "ga"; "it"; "pl"; "pt_BR"; "ru"; };' |
    $SUDO tee "$APT_LANGUAGES_CONF" >/dev/null
  $SUDO apt-get update -q
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing apt packages: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

VENV="${PNETC_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV" >&2
  python3 -m venv "$VENV"
fi
# torch 2.13.0 CPU first, so the [train] extra finds it satisfied and pulls no CUDA build.
"$VENV/bin/pip" install -q --disable-pip-version-check "torch==2.13.0"
"$VENV/bin/pip" install -q --disable-pip-version-check -e ".[train,dev]"
# The peers the benchmark compares against (PyPI, pinned); their end-to-end test needs them.
"$VENV/bin/pip" install -q --disable-pip-version-check -r bench/requirements.txt
echo "setup: ready ($VENV)" >&2
