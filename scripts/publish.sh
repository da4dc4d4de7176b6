#!/usr/bin/env bash
# Builds the bot as it is deployed: one native executable (Native AOT), out/native/larsbot, with libe_sqlite3.so
# beside it. No .NET runtime is needed where it runs. It starts in tens of milliseconds and idles in a fraction of
# the JIT build's memory (docs/benchmarks.md). Needs clang and zlib (installed here from Debian when missing).
# Usage: bash scripts/publish.sh [output folder]     then: out/native/larsbot run
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/native}

if ! command -v clang >/dev/null 2>&1 || [ ! -e /usr/include/zlib.h ]; then
  echo "== installing clang and zlib1g-dev (Debian), the native linker Native AOT uses"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends clang zlib1g-dev >/dev/null
fi

echo "== dotnet publish (Native AOT) -> $out"
dotnet publish src/Larsbot -c Release -r linux-x64 -p:PublishAot=true -o "$out" --nologo -v quiet
rm -f "$out"/*.dbg   # 60 MB of debug symbols; stack traces keep method names without them
ls -l "$out"
