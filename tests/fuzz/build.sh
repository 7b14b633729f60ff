#!/usr/bin/env bash
# Builds the fuzz targets in DIR (default build-fuzz), for .ci/check-fuzz and
# .ci/fuzz: first signcut itself with clang-14, AddressSanitizer,
# UndefinedBehaviorSanitizer (every report fatal) and libFuzzer's coverage
# instrumentation, in DIR/signcut; then the targets of this folder, a small
# meson project, in DIR/targets, linked against that build through its
# uninstalled pkg-config file. Prints nothing but meson's and ninja's errors.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(realpath -m "${1:-$root/build-fuzz}")
sanitize=(-Dbuildtype=debugoptimized -Doptimization=1 "-Db_sanitize=address,undefined" -Db_lundef=false)
flags="-fno-sanitize-recover=undefined -fno-omit-frame-pointer"
export CC=clang-14 CXX=clang++-14

if [ ! -f "$dir/signcut/build.ninja" ]; then
  meson setup "$dir/signcut" "$root" "${sanitize[@]}" -Dtests=disabled \
    -Dc_args="-fsanitize=fuzzer-no-link $flags" -Dcpp_args="-fsanitize=fuzzer-no-link $flags" >/dev/null
fi
# Only the shared library, which the targets link: not the CLI or the benchmarks.
library=$(ninja -C "$dir/signcut" -t targets all | sed -n 's/^\(lib\/libsigncut\.so\.[0-9.]*[0-9]\): .*/\1/p')
ninja -C "$dir/signcut" "$library" >"$dir/signcut-build.log" || { grep -E "error|FAILED" "$dir/signcut-build.log" | head -n 20; exit 1; }

if [ ! -f "$dir/targets/build.ninja" ]; then
  PKG_CONFIG_PATH="$dir/signcut/meson-uninstalled" meson setup "$dir/targets" "$root/tests/fuzz" \
    "${sanitize[@]}" -Dc_args="$flags" -Dcpp_args="$flags" >/dev/null
fi
ninja -C "$dir/targets" >"$dir/targets-build.log" || { grep -E "error|FAILED" "$dir/targets-build.log" | head -n 20; exit 1; }
