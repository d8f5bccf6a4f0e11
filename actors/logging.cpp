#include "chatrelay/logging.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace chatrelay::log {

namespace {

std::atomic<int> min_level{static_cast<int>(level::info)};
std::mutex out_mtx;

const char* name_of(level lvl) {
  switch (lvl) {
  case level::debug:
    return "DEBUG";
  case level::info:
    return "INFO ";
  case level::warning:
    return "WARN ";
  default:
    return "ERROR";
  }
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

bool enabled(level lvl) {
  return static_cast<int>(lvl) >= min_level;
}

void write(level lvl, std::string_view component, const std::string& line) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  std::lock_guard<std::mutex> guard{out_mtx};
  std::fprintf(stderr, "%s.%03dZ %s %.*s: %s\n", stamp, static_cast<int>(ms),
               name_of(lvl), static_cast<int>(component.size()),
               component.data(), line.c_str());
}

} // namespace chatrelay::log
