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

/// Line format: "text" (default) or "json" (one object per line, for log
/// shippers); returns false for an unknown name.
bool set_format(std::string_view name);

/// Under journald (JOURNAL_STREAM names our stderr) lines carry a syslog
/// priority prefix instead of a timestamp: the journal stamps them itself.
/// Detected by default; tests and embedders may force it.
void set_journal(bool on);

/// Whether stderr is connected to the journal (systemd's JOURNAL_STREAM).
bool stderr_is_journal();

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
