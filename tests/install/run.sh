#!/usr/bin/env bash
# Install test: `cmake --install` the project into a temporary prefix, check
# what was installed, then build tests/install/consumer (a separate CMake
# project: find_package(ChatRelay), ChatRelay::chatrelay) and the same program
# through pkg-config, and run both against the real broker: each must see its
# relay become active within 10 s.
#
# Env: BUILD_DIR (default build; configured and built if needed),
#      AMQP_URL (default amqp://guest:guest@127.0.0.1:5672), KEEP=1 keeps the
#      prefix for inspection.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT="$PWD"
BUILD_DIR="${BUILD_DIR:-build}"
AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672}"

PREFIX="$(mktemp -d /tmp/chatrelay-install.XXXXXX)"
names=""
cleanup() {
  local rc=$?
  [[ -z "$names" ]] || delete_names
  if [[ "${KEEP:-0}" == 1 ]]; then echo "kept $PREFIX"; else rm -rf "$PREFIX"; fi
  exit "$rc"
}
trap cleanup EXIT
fail() { echo "install test: FAIL: $*" >&2; exit 1; }
# shellcheck source=tests/install/lib.sh
source tests/install/lib.sh
step() { printf '\n--- %s\n' "$*"; }

step "build (incremental) and install into $PREFIX"
[[ -f "$BUILD_DIR/CMakeCache.txt" ]] || cmake -S . -B "$BUILD_DIR"
targets=(chatrelay chat-relayd)
web_client=0
if grep -q '^CHATRELAY_WEB_CLIENT:BOOL=ON' "$BUILD_DIR/CMakeCache.txt"; then
  targets+=(web-client)
  web_client=1
fi
cmake --build "$BUILD_DIR" --target "${targets[@]}" -j2
cmake --install "$BUILD_DIR" --prefix "$PREFIX" >"$PREFIX/install.log"
libdir="$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")"
libdir="${libdir:-lib}"

step "installed files"
for f in bin/chat-relayd include/chatrelay/relay.hpp include/chatrelay/actors.hpp \
  include/chatrelay/type_ids.hpp include/chatrelay/config.hpp \
  "$libdir/cmake/ChatRelay/ChatRelayConfig.cmake" \
  "$libdir/cmake/ChatRelay/ChatRelayConfigVersion.cmake" \
  "$libdir/cmake/ChatRelay/ChatRelayTargets.cmake" \
  "$libdir/cmake/ChatRelay/FindCAF.cmake" "$libdir/pkgconfig/chatrelay.pc"; do
  [[ -e "$PREFIX/$f" ]] || fail "missing $f"
  echo "ok  $f"
done
ls "$PREFIX/$libdir"/libchatrelay.* >/dev/null 2>&1 || fail "no libchatrelay in $libdir"
ls -l "$PREFIX/$libdir"/libchatrelay.* | sed 's/^/    /'
# Internal headers stay private, and no public header includes them.
[[ ! -e "$PREFIX/include/actors" && ! -e "$PREFIX/include/broker" &&
  ! -e "$PREFIX/include/chatrelay/internal" ]] ||
  fail "internal headers were installed"
if grep -rEn '#include ["<](actors|broker|app|chatrelay/internal)/' "$PREFIX/include/chatrelay"; then
  fail "a public header includes an internal one"
fi
echo "ok  only include/chatrelay is installed, without include/chatrelay/internal"
# Every installed header compiles against the installed tree alone (no -I to
# this checkout): the public interface needs nothing that was left out.
for h in "$PREFIX"/include/chatrelay/*.hpp; do
  echo "#include <chatrelay/$(basename "$h")>"
done >"$PREFIX/all-headers.cpp"
g++ -std=c++17 -fsyntax-only -Wall -Wextra -Werror -I"$PREFIX/include" "$PREFIX/all-headers.cpp" ||
  fail "the installed headers do not compile against $PREFIX/include alone"
echo "ok  the installed headers compile against $PREFIX/include alone"
"$PREFIX/bin/chat-relayd" --help >/dev/null || fail "the installed daemon does not start"
echo "ok  bin/chat-relayd --help runs (finds its library)"

step "the service: config under etc/, systemd unit, docs, web client"
for f in etc/chat-relay/chat-relay.ini lib/systemd/system/chat-relayd.service \
  share/doc/chat-relay/operations.md share/doc/chat-relay/grafana/chat-relay.json; do
  [[ -e "$PREFIX/$f" ]] || fail "missing $f"
  echo "ok  $f"
done
if ((web_client)); then
  [[ -f "$PREFIX/share/chat-relay/web/index.html" ]] || fail "missing share/chat-relay/web/index.html"
  echo "ok  share/chat-relay/web/index.html"
  # Started anywhere, the installed daemon finds its web client.
  out="$(cd / && "$PREFIX/bin/chat-relayd" --config-file="$PREFIX/etc/chat-relay/chat-relay.ini" --check-config)" ||
    fail "--check-config: $out"
  [[ "$out" == *"web client: $PREFIX/share/chat-relay/web"* ]] || fail "--check-config said: $out"
  echo "ok  the installed daemon serves $PREFIX/share/chat-relay/web (started in /)"
else
  echo "(CHATRELAY_WEB_CLIENT is OFF in $BUILD_DIR: no web client installed)"
fi

step "docs/embedding.md shows tests/install/consumer/main.cpp verbatim"
awk '/<!-- smallest-program -->/{f=1;next} f&&/^```cpp/{g=1;next} g&&/^```/{exit} g' \
  docs/embedding.md >"$PREFIX/doc-program.cpp"
diff -u tests/install/consumer/main.cpp "$PREFIX/doc-program.cpp" ||
  fail "docs/embedding.md and tests/install/consumer/main.cpp differ"
echo "ok  identical"

names="it.install.$$"
relay_broker_flags "$names" || fail "AMQP_URL"
delete_names() {   # best effort, with the integration suites' amqplib
  [[ -d tests/integration/node_modules/amqplib ]] || return 0
  (cd tests/integration && AMQP_URL="$AMQP_URL" N="$names" node --input-type=module -e '
    import amqp from "amqplib";
    const c = await amqp.connect(process.env.AMQP_URL);
    const ch = await c.createChannel();
    for (const q of ["login", "chat"]) await ch.deleteQueue(`${process.env.N}.${q}`);
    await ch.deleteExchange(`${process.env.N}.events`);
    await c.close();') || echo "(could not delete $names.*)"
}

step "consumer project: find_package(ChatRelay) + ChatRelay::chatrelay"
cmake -S tests/install/consumer -B "$PREFIX/consumer-build" \
  -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$PREFIX/consumer-configure.log" ||
  { cat "$PREFIX/consumer-configure.log"; fail "configuring the consumer"; }
cmake --build "$PREFIX/consumer-build" -j2
out="$(timeout 30 "$PREFIX/consumer-build/consumer" "${relay_flags[@]}")" ||
  fail "consumer (CMake) exited non-zero: $out"
echo "$out"
[[ "$out" == "relay active" ]] || fail "consumer (CMake) said: $out"
echo "ok  CMake consumer: relay active"

step "the same program through pkg-config"
export PKG_CONFIG_PATH="$PREFIX/$libdir/pkgconfig"
pkg-config --exists chatrelay || fail "pkg-config does not find chatrelay"
echo "pkg-config chatrelay: $(pkg-config --modversion chatrelay): $(pkg-config --cflags --libs chatrelay)"
# shellcheck disable=SC2046
g++ -std=c++17 -Wall -Wextra -Werror -o "$PREFIX/consumer-pc" \
  tests/install/consumer/main.cpp $(pkg-config --cflags --libs chatrelay) \
  -Wl,-rpath,"$PREFIX/$libdir"
out="$(timeout 30 "$PREFIX/consumer-pc" "${relay_flags[@]}")" ||
  fail "consumer (pkg-config) exited non-zero: $out"
[[ "$out" == "relay active" ]] || fail "consumer (pkg-config) said: $out"
echo "ok  pkg-config consumer: relay active"

echo
echo "install test: PASS"
