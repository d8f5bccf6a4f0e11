#include "chatrelay/internal/logging.hpp"

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

namespace chatrelay::log {

namespace {

enum class format { text, json };

std::atomic<int> min_level{static_cast<int>(level::info)};
std::atomic<format> line_format{format::text};
std::atomic<bool> journal{stderr_is_journal()};
std::mutex out_mtx;

/// How each level is written: text column, JSON name, and the sd-daemon(3)
/// priority prefix under which journald files the line.
struct level_names {
  const char* text;
  const char* json;
  const char* journal;
};

const level_names& names_of(level lvl) {
  static constexpr level_names table[] = {{"DEBUG", "debug", "<7>"},
                                          {"INFO ", "info", "<6>"},
                                          {"WARN ", "warning", "<4>"},
                                          {"ERROR", "error", "<3>"}};
  return table[static_cast<int>(lvl)];
}

/// RFC 3339 UTC with milliseconds.
std::string timestamp() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[40];
  auto n = std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(stamp + n, sizeof(stamp) - n, ".%03dZ", static_cast<int>(ms));
  return stamp;
}

std::string render(level lvl, std::string_view component,
                   const std::string& line) {
  auto& names = names_of(lvl);
  std::string out = journal ? names.journal : "";
  if (line_format == format::json) {
    nlohmann::json obj{{"ts", timestamp()},
                       {"level", names.json},
                       {"component", component},
                       {"msg", line}};
    // Invalid UTF-8 (a client's bytes in a message) must not throw here.
    out += obj.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return out;
  }
  if (!journal) out += timestamp() + " " + names.text + " ";
  out.append(component).append(": ").append(line);
  return out;
}

} // namespace

bool set_level(std::string_view name) {
  static constexpr std::pair<std::string_view, level> names[] = {
      {"debug", level::debug},
      {"info", level::info},
      {"warning", level::warning},
      {"error", level::error}};
  for (auto& [n, lvl] : names)
    if (n == name) {
      min_level = static_cast<int>(lvl);
      return true;
    }
  return false;
}

bool set_format(std::string_view name) {
  if (name == "text")
    line_format = format::text;
  else if (name == "json")
    line_format = format::json;
  else
    return false;
  return true;
}

void set_journal(bool on) {
  journal = on;
}

bool stderr_is_journal() {
  // systemd sets JOURNAL_STREAM=<device>:<inode> of the stream it connected;
  // a child whose stderr was redirected elsewhere inherits the variable, so
  // compare it with what stderr really is.
  const char* env = std::getenv("JOURNAL_STREAM");
  struct stat st {};
  if (!env || fstat(2, &st) != 0) return false;
  unsigned long long dev = 0;
  unsigned long long ino = 0;
  if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
  return dev == st.st_dev && ino == st.st_ino;
}

bool enabled(level lvl) {
  return static_cast<int>(lvl) >= min_level;
}

void write(level lvl, std::string_view component, const std::string& line) {
  auto text = render(lvl, component, line);
  text += '\n';
  std::lock_guard<std::mutex> guard{out_mtx};
  std::fwrite(text.data(), 1, text.size(), stderr);
}

} // namespace chatrelay::log
