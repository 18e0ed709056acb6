#!/usr/bin/env bash
# Dcron for .NET — one entry point for people and CI.
#   ./build.sh demo        run the demo (three nodes in one process, in-memory registry, no server)
#   ./build.sh test        install what the tests need (Debian packages), build, run every test
#   ./build.sh build       build the solution (Release, warnings as errors)
#   ./build.sh bench ARGS  run the BenchmarkDotNet suite (e.g. ./build.sh bench --filter '*.Cron*')
#   ./build.sh chaos ARGS  install the servers if missing, then run the chaos tool (e.g. ./build.sh chaos --backend etcd)
# The registry tests start their own Redis, etcd and ZooKeeper servers on free 127.0.0.1 ports and a Consul
# emulator in process; CONSUL_HTTP_ADDR, when set, also runs the Consul suite against that real agent.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

cmd=${1:-test}
shift || true
case "$cmd" in
  demo)
    exec dotnet run --project examples/Dcron.Demo -c Release -- "$@"
    ;;
  build)
    dotnet build Dcron.sln -c Release -warnaserror
    ;;
  test)
    bash scripts/install-deps.sh
    dotnet build Dcron.sln -c Release -warnaserror
    log=$(mktemp)
    rc=0
    # Each test assembly runs in its own process; a hung one is dumped and killed after 10 minutes.
    dotnet test Dcron.sln -c Release --no-build --blame-hang-timeout 10m "$@" 2>&1 | tee "$log" || rc=$?
    # One closing line over all assemblies: "tests: N passed, N failed, N skipped".
    awk '
      /(Passed|Failed)!  *- *Failed: *[0-9]+, *Passed: *[0-9]+, *Skipped: *[0-9]+/ {
        match($0, /Failed: *[0-9]+/);  f += substr($0, RSTART + 7, RLENGTH - 7) + 0
        match($0, /Passed: *[0-9]+/);  p += substr($0, RSTART + 7, RLENGTH - 7) + 0
        match($0, /Skipped: *[0-9]+/); s += substr($0, RSTART + 8, RLENGTH - 8) + 0
        n++
      }
      END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s; if (n == 0) exit 3 }' "$log" || { [ "$rc" -ne 0 ] || rc=3; }
    rm -f "$log"
    exit $rc
    ;;
  bench)
    exec dotnet run --project bench/Dcron.Benchmarks -c Release -- "$@"
    ;;
  chaos)
    bash scripts/install-deps.sh
    exec dotnet run --project bench/Dcron.Chaos -c Release -- "$@"
    ;;
  *)
    echo "usage: ./build.sh demo|test|build|bench|chaos" >&2
    exit 2
    ;;
esac
