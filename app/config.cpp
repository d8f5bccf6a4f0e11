#include "app/config.hpp"

#include "chatrelay/config.hpp"
#include "chatrelay/internal/type_ids.hpp"

#include <caf/atom.hpp>
#include <caf/config_option_adder.hpp>
#include <caf/config_value.hpp>

#include <fstream>
#include <vector>

namespace chatrelay::app {

relay_config::relay_config() {
  caf::config_option_adder relay{custom_options_, "relay"};
  add_options(relay, options)
      .add(
          remote.port, "remote-port",
          "publish the registry through CAF's middleman on this port (0 = off)")
      .add(remote.host, "remote-host",
           "address the published registry listens on")
      .add(daemon.log_format, "log-format",
           "log lines as \"text\" or \"json\" (one object per line)");
  caf::config_option_adder{custom_options_, "global"}
      .add(daemon.version, "version", "print the version and exit")
      .add(daemon.check_config, "check-config",
           "check the configuration (file and flags) and exit: 0 valid, 1 not");
  // Empty: found next to the installed daemon or in the build tree
  // (app/service.hpp, resolve_web_root).
  options.web_root.clear();
  // Peers must speak the same typed interfaces; the file or a flag may
  // still override this.
  set("middleman.app-identifiers",
      std::vector<std::string>{chatrelay::app_identifier});
  // CAF's default work-stealing scheduler polls for work after every job
  // (600 attempts, then 10 ms naps) on max(cores, 4) threads: at 200 chats/s
  // that cost ~1 ms of relay CPU per chat and starved the broker on a small
  // machine. Work sharing sleeps on a condition variable: 5-8x less CPU per
  // chat, idle ~0.1% of a core (bench/run-scheduler.sh). A file or flag wins.
  set("scheduler.policy", caf::atom("sharing"));
}

std::string relay_config::validate_daemon() const {
  if (daemon.log_format != "text" && daemon.log_format != "json")
    return "relay.log-format: must be \"text\" or \"json\"";
  return {};
}

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

} // namespace

std::string relay_config::check_file() const {
  if (config_file_path.empty()) return {};
  std::ifstream in{config_file_path};
  if (!in) return {}; // CAF already reported a missing explicit file
  std::string line;
  std::string section;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    auto text = trim(line);
    if (text.empty() || text[0] == ';' || text[0] == '#') continue;
    auto where = config_file_path + ":" + std::to_string(lineno) + ": ";
    if (text.front() == '[') {
      if (text.back() != ']') return where + "malformed section header";
      section = trim(text.substr(1, text.size() - 2));
      continue;
    }
    auto eq = text.find('=');
    if (eq == std::string::npos) return where + "expected key=value";
    auto key = trim(text.substr(0, eq));
    auto value = trim(text.substr(eq + 1));
    // Strip a trailing comment outside of strings.
    if (auto sc = value.find(" ;");
        sc != std::string::npos && value.find('"') == std::string::npos)
      value = trim(value.substr(0, sc));
    auto name = section.empty() ? key : section + "." + key;
    auto* opt = custom_options_.qualified_name_lookup(name);
    if (!opt) return where + "unknown option '" + name + "'";
    auto parsed = caf::config_value::parse(value);
    if (!parsed)
      return where + "option '" + name + "': cannot parse value " + value;
    if (auto err = opt->check(*parsed))
      return where + "option '" + name + "': value " + value +
             " is not a valid " +
             std::string(opt->type_name().data(), opt->type_name().size());
  }
  return {};
}

} // namespace chatrelay::app
