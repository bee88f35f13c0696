#!/usr/bin/env bash
# Runs memio's demonstration on a fresh Debian machine: installs the build
# tools if missing, builds the library and the demo (udp-echo, the example
# program, on in-memory devices), and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
memio_ensure_packages "${MEMIO_BUILD_PACKAGES[@]}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target udp-echo-demo -j "$(nproc)" >/dev/null
exec ./build/examples/udp-echo-demo
