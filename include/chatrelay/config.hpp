// Options declared once: a table per options struct holds each option's
// name, member, help and rules; the CAF registration (file and flags), the
// validation and the commented example config all follow from it.
#pragma once

#include "chatrelay/options.hpp"

#include <caf/config_option_adder.hpp>
#include <caf/config_option_set.hpp>
#include <caf/config_value.hpp>
#include <caf/timespan.hpp>

#include <chrono>
#include <functional>
#include <initializer_list>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace chatrelay {

/// A condition on an option's value: `text` says it to people ("1..65535",
/// in the help and in errors as "must be 1..65535"), `holds` checks it.
template <class F>
struct rule {
  std::string text;
  F holds;
};

template <class F>
rule<F> make_rule(std::string text, F holds) {
  return {std::move(text), std::move(holds)};
}

/// A duration as the config file writes it: the largest exact unit ("5min",
/// "250ms", "0s"; CAF itself prints 0 as "0d", which it cannot read back).
std::string duration_text(caf::timespan d);

/// A config value as the config file writes it.
std::string value_text(const caf::config_value& v);

/// `text` as "; " comment lines of at most `width` columns (each ends in
/// a newline).
std::string comment_lines(const std::string& text, size_t width = 78);

namespace detail {

inline std::string bound_text(caf::timespan d) {
  return duration_text(d);
}

template <class Rep, class Period>
std::string bound_text(std::chrono::duration<Rep, Period> d) {
  return duration_text(std::chrono::duration_cast<caf::timespan>(d));
}

template <class N, class = std::enable_if_t<std::is_arithmetic_v<N>>>
std::string bound_text(N n) {
  return std::to_string(n);
}

} // namespace detail

/// Valid from `lo` to `hi` (numbers or durations).
template <class Lo, class Hi>
auto between(Lo lo, Hi hi) {
  return make_rule(detail::bound_text(lo) + ".." + detail::bound_text(hi),
                   [lo, hi](const auto& v) {
                     using V = std::decay_t<decltype(v)>;
                     return V(lo) <= v && v <= V(hi);
                   });
}

/// Valid from `lo` up.
template <class N>
auto at_least(N lo) {
  return make_rule("at least " + detail::bound_text(lo), [lo](const auto& v) {
    using V = std::decay_t<decltype(v)>;
    return V(lo) <= v;
  });
}

/// Valid when one of `choices` (text "\"a\", \"b\" or \"c\"").
rule<std::function<bool(const std::string&)>>
one_of(std::initializer_list<const char*> choices);

/// Valid when not empty.
rule<std::function<bool(const std::string&)>> not_empty();

/// Valid when "host:port" with a port 1..65535.
rule<std::function<bool(const std::string&)>> host_port();

/// Valid when every element is "host:port".
rule<std::function<bool(const std::vector<std::string>&)>> host_ports();

/// An option that breaks a rule: its full name and the rule (empty: valid).
struct option_error {
  std::string option; ///< "relay.amqp-port"
  std::string why;    ///< "must be 1..65535"

  explicit operator bool() const { return !option.empty(); }

  /// "relay.amqp-port: must be 1..65535", or "" when valid.
  std::string message() const {
    return option.empty() ? std::string{} : option + ": " + why;
  }
};

/// The options of one group (`relay` for relay.amqp-host, --relay.amqp-host)
/// bound to the members of a struct `T`. Declare each option once with `add`;
/// everything else reads the table.
template <class T>
class option_table {
public:
  explicit option_table(std::string group) : group_(std::move(group)) {}

  /// Declares the option `name`, bound to `member`, described by `help` (one
  /// line), valid when all of `rules` hold for its value.
  template <class V, class... Fs>
  option_table& add(V T::*member, const char* name, const char* help,
                    rule<Fs>... rules) {
    entry e;
    e.name = name;
    e.help = help;
    e.heading = std::move(heading_);
    heading_.clear();
    e.bind = [member](caf::config_option_adder& adder, T& opts,
                      const std::string& name_, const std::string& text) {
      adder.add(opts.*member, name_, text);
    };
    (e.rules.push_back({std::move(rules.text),
                        [member, holds = std::move(rules.holds)](
                            const T& opts) { return holds(opts.*member); }}),
     ...);
    entries_.push_back(std::move(e));
    return *this;
  }

  /// A rule of the option declared last that depends on other options too:
  /// `holds` takes the whole struct.
  template <class F>
  option_table& require(std::string text, F holds) {
    entries_.back().rules.push_back({std::move(text), std::move(holds)});
    return *this;
  }

  /// More about the option declared last, for the example config (wrapped).
  option_table& notes(const char* text) {
    entries_.back().notes = text;
    return *this;
  }

  /// The example config shows the option declared last commented out with
  /// this value, instead of set to its default.
  option_table& example(const char* value) {
    entries_.back().example = value;
    return *this;
  }

  /// Starts a part of the example config before the next option.
  option_table& heading(const char* text) {
    heading_ = text;
    return *this;
  }

  const std::string& group() const { return group_; }

  /// Registers every option with CAF (file and flags), bound to the members
  /// of `opts`, which must outlive the options `adder` adds to. The help
  /// text names the rules, so it says what validation accepts.
  void bind(caf::config_option_adder& adder, T& opts) const {
    for (auto& e : entries_)
      e.bind(adder, opts, e.name, help_text(e));
  }

  /// The first option of `opts` that breaks one of its rules.
  option_error validate(const T& opts) const {
    for (auto& e : entries_)
      for (auto& r : e.rules)
        if (!r.holds(opts)) return {group_ + "." + e.name, "must be " + r.text};
    return {};
  }

  /// Writes the options as a commented config section (after "[group]"),
  /// each set to its value in `opts` (by default: the defaults).
  void write_example(std::ostream& out, T opts = T{}) const {
    caf::config_option_set set;
    caf::config_option_adder adder{set, group_};
    bind(adder, opts);
    for (auto& e : entries_) {
      if (!e.heading.empty()) out << "\n" << heading_line(e.heading) << "\n";
      out << "\n" << comment_lines(help_text(e));
      if (!e.notes.empty()) out << comment_lines(e.notes);
      auto value = set.qualified_name_lookup(group_, e.name)->get();
      if (!e.example.empty())
        out << "; " << e.name << "=" << e.example << "\n";
      else
        out << e.name << "=" << value_text(*value) << "\n";
    }
  }

private:
  struct entry {
    std::string name;
    std::string help;
    std::string notes;
    std::string example;
    std::string heading;
    std::function<void(caf::config_option_adder&, T&, const std::string&,
                       const std::string&)>
        bind;
    std::vector<rule<std::function<bool(const T&)>>> rules;
  };

  static std::string help_text(const entry& e) {
    std::string text = e.help;
    for (size_t i = 0; i < e.rules.size(); ++i)
      text += (i == 0 ? "; valid: " : ", ") + e.rules[i].text;
    return text;
  }

  /// "; --- text ----..." to column 78.
  static std::string heading_line(const std::string& text) {
    std::string line = "; --- " + text + " ";
    if (line.size() < 78) line.append(78 - line.size(), '-');
    return line;
  }

  std::string group_;
  std::string heading_;
  std::vector<entry> entries_;
};

/// Every option of the relay (group "relay").
const option_table<relay_options>& relay_option_table();

/// Adds every relay option to `adder` (usually the group "relay"), bound to
/// the members of `opts`: `relay.amqp-host`, `relay.login-queue`, ...
/// `opts` must outlive the config that holds `adder`'s options.
inline caf::config_option_adder& add_options(caf::config_option_adder& adder,
                                             relay_options& opts) {
  relay_option_table().bind(adder, opts);
  return adder;
}

} // namespace chatrelay
