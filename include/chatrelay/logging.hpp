// The relay's log: one line per event on stderr with time, level and
// component (CAF's own logger is compiled out in Debian's build).
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace chatrelay::log {

enum class level { debug, info, warning, error };

/// Sets the minimum level; returns false for an unknown name.
bool set_level(std::string_view name);

bool enabled(level lvl);

void write(level lvl, std::string_view component, const std::string& line);

} // namespace chatrelay::log

/// Usage: CHATRELAY_LOG(info, "registry", "user " << login << " online");
#define CHATRELAY_LOG(lvl, component, expr)                                    \
  do {                                                                         \
    if (::chatrelay::log::enabled(::chatrelay::log::level::lvl)) {             \
      std::ostringstream chatrelay_log_os_;                                    \
      chatrelay_log_os_ << expr;                                               \
      ::chatrelay::log::write(::chatrelay::log::level::lvl, component,         \
                              chatrelay_log_os_.str());                        \
    }                                                                          \
  } while (false)
