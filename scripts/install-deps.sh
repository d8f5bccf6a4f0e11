#!/usr/bin/env bash
# Installs the Debian 12 packages the project needs (idempotent). Nothing is fetched when all are
# present, so test.sh and run.sh can call it every time; `apt-get update` runs only when needed.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache         # toolchain (ccache: repeated builds of test.sh)
  libcaf-dev librabbitmq-dev nlohmann-json3-dev   # the daemon's libraries
  prometheus-cpp-dev libcpp-httplib-dev
  libsystemd-dev                                   # sd_notify: Type=notify readiness (optional at build time)
  rabbitmq-server                                  # the broker (run as a private node by broker.sh)
  clang libclang-rt-14-dev                         # fuzzing (libFuzzer) and sanitizer runtimes
  chromium                                         # web end-to-end tests (headless)
  gnuplot-nox                                      # bench plots
  curl                                             # readiness checks, management API
  dpkg-dev file                                    # cpack -G DEB: dpkg-shlibdeps (finds ELF files with file)
)
# Node from any source will do (the machine may carry a newer one than Debian's 18).
if ! command -v node >/dev/null 2>&1; then packages+=(nodejs npm); fi

missing=()
for p in "${packages[@]}"; do
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  command -v npm >/dev/null 2>&1 || echo "install-deps: WARNING: node is there but npm is not" >&2
  exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
  echo "install-deps: missing ${missing[*]}; run as root to install them" >&2
  exit 1
fi

# Was the broker package already there? Only a fresh install may have started Debian's service.
rabbit_was_installed=1
[[ " ${missing[*]} " == *" rabbitmq-server "* ]] && rabbit_was_installed=0

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}"

if ((rabbit_was_installed == 0)); then
  # Debian's postinst starts the system node (rabbit@host) on the default ports where services
  # run; our private node must own them, so stop it again (it stays installed, just not running).
  if service rabbitmq-server status >/dev/null 2>&1; then
    echo "install-deps: stopping Debian's rabbitmq-server service (the project runs a private node)"
    service rabbitmq-server stop || true
  fi
  # Not enabled at boot either, where an init system honours that.
  if command -v update-rc.d >/dev/null 2>&1; then update-rc.d rabbitmq-server disable >/dev/null 2>&1 || true; fi
  if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
    systemctl disable --now rabbitmq-server >/dev/null 2>&1 || true
  fi
fi

echo "install-deps: installed ${missing[*]}"
