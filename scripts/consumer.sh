#!/usr/bin/env bash
# Installs memio from build dir $1 into a temporary prefix and builds a
# small consumer twice, once with pkg-config and once with find_package,
# then runs both.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=$(mktemp -d /tmp/memio-prefix.XXXXXX)
work=$(mktemp -d /tmp/memio-consumer.XXXXXX)
trap 'rm -rf "$prefix" "$work"' EXIT

cmake --install "$build" --prefix "$prefix" >/dev/null

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/$(gcc -print-multiarch 2>/dev/null)/pkgconfig"
# shellcheck disable=SC2046
cc -o "$work/by-pkg-config" "$root/tests/consumer/consumer.c" $(pkg-config --cflags --libs memio) \
    -Wl,-rpath,"$(pkg-config --variable=libdir memio)"
"$work/by-pkg-config"

cmake -S "$root/tests/consumer" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
"$work/cmake/consumer"
echo "consumer: pkg-config and find_package both work"
