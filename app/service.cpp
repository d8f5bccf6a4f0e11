#include "app/service.hpp"

#include "chatrelay/internal/logging.hpp"

#include <caf/config.hpp>

#ifdef CHATRELAY_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <iostream>
#include <string>
#include <sys/stat.h>

namespace chatrelay::app {

namespace {

bool has_index(const std::string& dir) {
  struct stat st {};
  return !dir.empty() && stat((dir + "/index.html").c_str(), &st) == 0 &&
         S_ISREG(st.st_mode);
}

/// `dir` without "..", symlinks resolved (as logged and checked).
std::string canonical(const std::string& dir) {
  char buf[PATH_MAX];
  return realpath(dir.c_str(), buf) ? std::string{buf} : dir;
}

/// The directory of the running binary ("" if unknown).
std::string exe_dir() {
  char buf[PATH_MAX];
  auto n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return {};
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

void notify(const std::string& state) {
#ifdef CHATRELAY_HAVE_SYSTEMD
  sd_notify(0, state.c_str());
#else
  (void)state;
#endif
}

} // namespace

std::string version_text() {
  std::string systemd =
#ifdef CHATRELAY_HAVE_SYSTEMD
      "with";
#else
      "without";
#endif
  return "chat-relayd " CHATRELAY_VERSION " (CAF " +
         std::to_string(CAF_MAJOR_VERSION) + "." +
         std::to_string(CAF_MINOR_VERSION) + "." +
         std::to_string(CAF_PATCH_VERSION) + ", " + systemd + " libsystemd)";
}

std::string resolve_web_root(const std::string& configured) {
  if (!configured.empty()) {
    struct stat st {};
    bool dir = stat(configured.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    return dir ? configured : "";
  }
  auto dir = exe_dir();
  // Installed: <prefix>/bin/../share/chat-relay/web (any prefix, as the rpath).
  if (auto installed = dir + "/" CHATRELAY_BIN_TO_WEB; has_index(installed))
    return canonical(installed);
  // The build tree: its own copy of the built client, else the source's.
  char build_dir[PATH_MAX];
  if (realpath(CHATRELAY_BUILD_DIR, build_dir) && dir == build_dir) {
    for (auto candidate : {CHATRELAY_BUILD_DIR "/web", CHATRELAY_SOURCE_WEB})
      if (has_index(candidate)) return candidate;
  }
  return {};
}

void log_web_root(const std::string& web_root) {
  if (web_root.empty())
    CHATRELAY_LOG(warning, "main",
                  "web client not found: / answers 404 (set relay.web-root "
                  "to the directory of the built client)");
  else
    CHATRELAY_LOG(info, "main", "web client served from " << web_root);
}

int report_config_check(const relay_config& cfg) {
  auto file = cfg.file();
  std::cout << "chat-relayd: configuration "
            << (file.empty() ? "(defaults and flags, no file)" : "file " + file)
            << " is valid\n";
  auto& web = cfg.daemon.web_root;
  std::cout << "web client: " << (web.empty() ? "not found" : web) << "\n";
  return EXIT_SUCCESS;
}

void service_notifier::update(const relay_metrics& metrics) {
  bool connected = metrics.connected.Value() > 0;
  bool active = metrics.active.Value() > 0;
  std::string status = !connected ? "disconnected from the broker"
                       : active   ? "active: consuming chat and login"
                                  : "standby: ready to take over";
  if (status == status_) return;
  status_ = status;
  std::string state = "STATUS=" + status;
  if (connected && !ready_) {
    ready_ = true;
    state = "READY=1\n" + state;
  }
  notify(state);
}

void service_notifier::stopping() {
  notify("STOPPING=1\nSTATUS=stopping");
}

} // namespace chatrelay::app
