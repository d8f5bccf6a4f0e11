// chat-bench: load generator for the chat relay (see bench/README.md).
//
// Modes:
//   relay  - log in N users through the relay (queue `login`), S senders publish M chat messages to
//            queue `chat`, consume all N user queues and account for every delivery.
//   direct - the broker's own ceiling: a fanout exchange with N bound queues (same arguments as the
//            relay's user queues), S publishers publish the same bodies straight to it.
//   login  - log in N users pipelined, measure logins/s to the last welcome, log them out.
//
// Clock: CLOCK_REALTIME nanoseconds are written into every message text ("t=<ns>;s=<seq>;p=<sender>;")
// so relay-mode latencies include the relay (same machine, same clock).

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <nlohmann/json.hpp>

#include <getopt.h>
#include <signal.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using json = nlohmann::json;

namespace {

// ---------------------------------------------------------------------------------------------
// options

enum class Mode { relay, direct, login };

struct CpuWatch {
  std::string label;
  int pid = 0;
};

struct Options {
  Mode mode = Mode::relay;
  std::string host = "127.0.0.1";
  int port = 5672;
  std::string vhost = "/";
  std::string user = "guest";
  std::string password = "guest";
  size_t users = 10;
  size_t senders = 1;
  uint64_t messages = 1000;
  double rate = 0;  // msgs/s total, 0 = flat out
  size_t size = 100;
  bool json_out = false;
  double timeout = 30;
  bool progress = false;
  size_t queues_per_conn = 0;  // 0 = auto: about sqrt(N) connections, at least 4
  size_t window = 500;  // publisher-confirm window per publisher
  std::string room = "main";
  std::string login_queue = "login";
  std::string chat_queue = "chat";
  std::string runid;
  std::vector<CpuWatch> cpu;
  int rss_pid = 0;
  double linger = 0.3;  // seconds to keep consuming after the last expected delivery (late duplicates)
  bool no_logout = false;
  double probe_near_ms = 100, probe_far_ms = 2000;  // queue polling intervals before a user queue exists
  size_t lookahead = 64;
  bool batch = false;  // logins ask for "batch": true (room messages come in batch events)
  size_t batch_size = 1;  // direct mode with --batch: messages per published batch frame
};

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: chat-bench [options]\n"
               "  --mode relay|direct|login   what to measure (default relay)\n"
               "  --amqp HOST:PORT            broker (default 127.0.0.1:5672)\n"
               "  --vhost V                   vhost (default /)\n"
               "  --user U --password P       broker credentials (default guest/guest)\n"
               "  --users N                   receiving users / queues (default 10)\n"
               "  --senders S                 publishers; in relay mode the first S users (default 1)\n"
               "  --messages M                chat messages in total (default 1000)\n"
               "  --rate R                    msgs/s in total, 0 = flat out (default 0)\n"
               "  --size BYTES                message text size (default 100)\n"
               "  --rooms no                  one room only (`main`); the only supported value\n"
               "  --json                      one JSON object on stdout instead of the table\n"
               "  --timeout SEC               max wait per phase: welcomes, confirms, deliveries after\n"
               "                              the last send (default 30)\n"
               "  --progress                  a progress line on stderr every second\n"
               "  --queues-per-conn K         user queues per consumer connection/thread (default 0 = auto:\n"
               "                              max(4, sqrt(N)) connections, fastest measured)\n"
               "  --window W                  unconfirmed publishes per publisher (default 500)\n"
               "  --runid ID                  run id used in names (default random)\n"
               "  --cpu-pid LABEL:PID         report CPU time of PID during the measured phase (repeatable)\n"
               "  --rss-pid PID               report VmRSS of PID before and after the logins\n"
               "  --linger SEC                keep consuming after the last expected delivery (default 0.3)\n"
               "  --no-logout                 leave the users logged in (relay/login mode)\n"
               "  --probe-near-ms MS          poll interval for a user queue near the login frontier and not yet\n"
               "                              announced by a join (default 100)\n"
               "  --probe-far-ms MS           poll interval for other user queues (default 2000)\n"
               "  --lookahead K               users past the last welcome that count as near (default 64)\n"
               "  --batch                     relay mode: logins ask for \"batch\": true; every message inside a\n"
               "                              batch event is accounted (loss, duplicates, order, latency) as a\n"
               "                              single delivery; frames are counted as batch_frames. Direct mode:\n"
               "                              each message goes out as a batch of one (checks that accounting)\n"
               "  --batch-size K              direct mode with --batch: K messages per batch frame (default 1):\n"
               "                              the broker's own fan-out of batches, the anchor for relay batching\n");
  std::exit(code);
}

// ---------------------------------------------------------------------------------------------
// time and /proc helpers

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

double secs(int64_t ns) { return double(ns) / 1e9; }

void sleep_ns(int64_t ns) {
  if (ns <= 0) return;
  timespec ts{time_t(ns / 1000000000), long(ns % 1000000000)};
  nanosleep(&ts, nullptr);
}

// utime+stime of a process in seconds, -1 on error
double proc_cpu_seconds(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  if (!std::getline(f, s)) return -1;
  auto rp = s.rfind(')');
  if (rp == std::string::npos) return -1;
  std::istringstream in(s.substr(rp + 2));
  std::string field;
  // fields after ')' start at field 3 (state); utime is field 14, stime 15
  std::vector<std::string> v;
  while (in >> field) v.push_back(field);
  if (v.size() < 13) return -1;
  double ticks = double(std::strtoull(v[11].c_str(), nullptr, 10) + std::strtoull(v[12].c_str(), nullptr, 10));
  return ticks / double(sysconf(_SC_CLK_TCK));
}

// VmRSS in bytes, -1 on error
int64_t proc_rss_bytes(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return int64_t(std::strtoll(line.c_str() + 6, nullptr, 10)) * 1024;
  return -1;
}

double self_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::atomic<bool> g_interrupted{false};
void on_signal(int) { g_interrupted = true; }

// ---------------------------------------------------------------------------------------------
// AMQP helpers (one connection per thread; rabbitmq-c connections are not thread-safe)

std::string bytes_str(amqp_bytes_t b) { return std::string(static_cast<const char*>(b.bytes), b.len); }

/// Why the server closed the connection or a channel (`m` is its close method).
std::string close_reason(const amqp_method_t& m) {
  if (m.id == AMQP_CONNECTION_CLOSE_METHOD) {
    auto* c = static_cast<amqp_connection_close_t*>(m.decoded);
    return "connection closed by server: " + std::to_string(c->reply_code) + " " + bytes_str(c->reply_text);
  }
  auto* c = static_cast<amqp_channel_close_t*>(m.decoded);
  return "channel closed by server: " + std::to_string(c->reply_code) + " " + bytes_str(c->reply_text);
}

std::string reply_text(amqp_rpc_reply_t r) {
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL: return "ok";
    case AMQP_RESPONSE_NONE: return "missing RPC reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION: return amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD || r.reply.id == AMQP_CHANNEL_CLOSE_METHOD)
        return close_reason(r.reply);
      return "server exception, method " + std::to_string(r.reply.id);
  }
  return "?";
}

void check(amqp_rpc_reply_t r, const std::string& what) {
  if (r.reply_type != AMQP_RESPONSE_NORMAL) throw std::runtime_error(what + ": " + reply_text(r));
}

class Conn {
 public:
  Conn() = default;
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn() { close(); }

  void open(const Options& o, const std::string& name) {
    c_ = amqp_new_connection();
    amqp_socket_t* sock = amqp_tcp_socket_new(c_);
    if (!sock) throw std::runtime_error("amqp_tcp_socket_new failed");
    timeval tv{5, 0};
    int rc = amqp_socket_open_noblock(sock, o.host.c_str(), o.port, &tv);
    if (rc != AMQP_STATUS_OK)
      throw std::runtime_error("connect " + o.host + ":" + std::to_string(o.port) + ": " + amqp_error_string2(rc));
    amqp_table_entry_t props[1];
    props[0].key = amqp_cstring_bytes("connection_name");
    props[0].value.kind = AMQP_FIELD_KIND_UTF8;
    props[0].value.value.bytes = amqp_cstring_bytes(name.c_str());
    amqp_table_t table{1, props};
    check(amqp_login_with_properties(c_, o.vhost.c_str(), 0, 131072, 0, &table, AMQP_SASL_METHOD_PLAIN,
                                     o.user.c_str(), o.password.c_str()),
          "login to broker");
    open_ = true;
  }

  void channel(uint16_t ch) {
    amqp_channel_open(c_, ch);
    check(amqp_get_rpc_reply(c_), "channel.open");
  }

  void close() {
    if (c_) {
      if (open_) amqp_connection_close(c_, AMQP_REPLY_SUCCESS);
      amqp_destroy_connection(c_);
      c_ = nullptr;
      open_ = false;
    }
  }

  amqp_connection_state_t get() const { return c_; }

 private:
  amqp_connection_state_t c_ = nullptr;
  bool open_ = false;
};

// Publisher with asynchronous publisher confirms: publish up to `window` unconfirmed messages,
// read acks as they come.
class Publisher {
 public:
  Publisher(Conn& c, uint16_t ch, size_t window) : c_(c), ch_(ch), window_(window ? window : 1) {
    amqp_confirm_select(c_.get(), ch_);
    check(amqp_get_rpc_reply(c_.get()), "confirm.select");
  }

  void publish(const std::string& exchange, const std::string& rk, const std::string& body, bool persistent) {
    while (published_ - settled() >= window_) pump(true, 5.0);
    amqp_basic_properties_t p{};
    p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
    p.content_type = amqp_cstring_bytes("application/json");
    p.delivery_mode = persistent ? 2 : 1;
    amqp_bytes_t b{body.size(), const_cast<char*>(body.data())};
    int rc = amqp_basic_publish(c_.get(), ch_, amqp_cstring_bytes(exchange.c_str()), amqp_cstring_bytes(rk.c_str()),
                                0, 0, &p, b);
    if (rc != AMQP_STATUS_OK) throw std::runtime_error(std::string("basic.publish: ") + amqp_error_string2(rc));
    ++published_;
    pump(false, 0);
  }

  // Read confirm frames. block=false: only what is already readable.
  void pump(bool block, double wait_s) {
    for (;;) {
      amqp_frame_t f;
      timeval tv{0, 0};
      if (block) {
        tv.tv_sec = time_t(wait_s);
        tv.tv_usec = suseconds_t((wait_s - double(tv.tv_sec)) * 1e6);
      }
      int rc = amqp_simple_wait_frame_noblock(c_.get(), &f, &tv);
      if (rc == AMQP_STATUS_TIMEOUT) {
        if (block) throw std::runtime_error("timed out waiting for publisher confirms");
        return;
      }
      if (rc != AMQP_STATUS_OK) throw std::runtime_error(std::string("reading confirms: ") + amqp_error_string2(rc));
      if (f.frame_type != AMQP_FRAME_METHOD) continue;  // content of a basic.return: ignore
      switch (f.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD: {
          auto* a = static_cast<amqp_basic_ack_t*>(f.payload.method.decoded);
          settle(a->delivery_tag, a->multiple, false);
          break;
        }
        case AMQP_BASIC_NACK_METHOD: {
          auto* n = static_cast<amqp_basic_nack_t*>(f.payload.method.decoded);
          settle(n->delivery_tag, n->multiple, true);
          break;
        }
        case AMQP_CHANNEL_CLOSE_METHOD:
        case AMQP_CONNECTION_CLOSE_METHOD: throw std::runtime_error("publisher " + close_reason(f.payload.method));
        default: break;
      }
      if (block) return;  // made progress
    }
  }

  // Wait until every publish is confirmed or the deadline (CLOCK_REALTIME ns) passes.
  bool wait_all(int64_t deadline) {
    while (settled() < published_) {
      double left = secs(deadline - now_ns());
      if (left <= 0 || g_interrupted) return false;
      try {
        pump(true, std::min(left, 0.2));
      } catch (const std::runtime_error& e) {
        if (std::string(e.what()).find("timed out") == std::string::npos) throw;
      }
    }
    return true;
  }

  uint64_t published() const { return published_; }
  uint64_t acked() const { return acked_; }
  uint64_t nacked() const { return nacked_; }
  uint64_t settled() const { return acked_ + nacked_; }

 private:
  // RabbitMQ confirms in order on a channel: treat every confirm as cumulative up to its tag.
  void settle(uint64_t tag, bool multiple, bool nack) {
    if (tag <= high_) return;
    uint64_t n = multiple ? tag - high_ : 1;
    if (!multiple && tag != high_ + 1) n = tag - high_;  // out of order single ack: count the gap
    high_ = tag;
    (nack ? nacked_ : acked_) += n;
  }

  Conn& c_;
  uint16_t ch_;
  size_t window_;
  uint64_t published_ = 0, acked_ = 0, nacked_ = 0, high_ = 0;
};

// ---------------------------------------------------------------------------------------------
// shared run state

struct Shared {
  const Options* o = nullptr;
  size_t per_sender = 0;  // messages per sender slot (max)
  std::vector<std::string> logins, queues, tokens;
  std::vector<int64_t> login_sent_ns, welcome_ns;
  std::atomic<bool> stop_consumers{false};
  std::atomic<bool> start_senders{false};
  std::atomic<uint64_t> sent{0}, confirmed{0}, delivered{0}, unique{0}, welcomes{0}, consuming{0};
  std::atomic<int64_t> max_welcome_index{-1};
  // user queues known to exist: a `join` for the user was seen (the relay announces a login after it
  // has declared and bound the queue), so the consumer can attach without failed passive declares
  // (each failure is a channel error the broker logs)
  std::unique_ptr<std::atomic<bool>[]> known;
  std::mutex token_mu;  // tokens change when the relay re-sends a welcome
  std::atomic<int64_t> first_send_ns{0}, last_send_ns{0};
  std::atomic<int> fatal{0};
  std::mutex err_mu;
  std::vector<std::string> fatal_msgs;

  void fail(const std::string& m) {
    std::lock_guard<std::mutex> g(err_mu);
    fatal_msgs.push_back(m);
    fatal = 1;
  }
};

struct ConsumerStats {
  uint64_t deliveries = 0, unique = 0, duplicates = 0, reordered = 0, welcomes = 0, dup_welcomes = 0;
  uint64_t token_changes = 0, failed_probes = 0;
  uint64_t joins = 0, leaves = 0, other = 0, unparsable = 0, foreign = 0, cancels = 0;
  uint64_t batch_frames = 0;  // batch events; their messages count as deliveries
  std::map<std::string, uint64_t> errors;
  std::vector<uint32_t> lat_us;
  int64_t last_recv_ns = 0;
};

// parse "t=<ns>;s=<seq>;p=<sender>;" at p; returns false if malformed
bool parse_stamp(const char* p, const char* end, int64_t& t, int64_t& s, int64_t& snd) {
  auto num = [&](char key, int64_t& out) {
    if (end - p < 3 || p[0] != key || p[1] != '=') return false;
    p += 2;
    int64_t v = 0;
    bool any = false;
    while (p < end && *p >= '0' && *p <= '9') {
      v = v * 10 + (*p - '0');
      ++p;
      any = true;
    }
    if (!any || p >= end || *p != ';') return false;
    ++p;
    out = v;
    return true;
  };
  return num('t', t) && num('s', s) && num('p', snd);
}

class Consumer {
 public:
  Consumer(Shared& sh, std::vector<size_t> users) : sh_(sh), users_(std::move(users)) {
    const size_t S = std::max<size_t>(sh.o->senders, 1);
    last_seq_.assign(users_.size() * S, -1);
    if (sh.o->mode != Mode::login) seen_.resize(users_.size(), std::vector<bool>(S * sh.per_sender, false));
    for (size_t k = 0; k < users_.size(); ++k) local_[users_[k]] = k;
  }

  void run() {
    try {
      loop();
    } catch (const std::exception& e) {
      sh_.fail(std::string("consumer: ") + e.what());
    }
    conn_.close();
  }

  ConsumerStats stats;

 private:
  bool probe(const std::string& q) {
    amqp_queue_declare(conn_.get(), 2, amqp_cstring_bytes(q.c_str()), 1, 0, 0, 0, amqp_empty_table);
    amqp_rpc_reply_t r = amqp_get_rpc_reply(conn_.get());
    if (r.reply_type == AMQP_RESPONSE_NORMAL) return true;
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
      auto* m = static_cast<amqp_channel_close_t*>(r.reply.decoded);
      uint16_t code = m->reply_code;
      amqp_channel_close_ok_t ok{};
      amqp_send_method(conn_.get(), 2, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
      if (code != 404) throw std::runtime_error("passive declare " + q + ": " + reply_text(r));
      conn_.channel(2);
      return false;
    }
    throw std::runtime_error("passive declare " + q + ": " + reply_text(r));
  }

  void consume(size_t u) {
    std::string tag = std::to_string(u);
    amqp_basic_consume(conn_.get(), 1, amqp_cstring_bytes(sh_.queues[u].c_str()), amqp_cstring_bytes(tag.c_str()), 0,
                       1 /*no_ack*/, 0, amqp_empty_table);
    check(amqp_get_rpc_reply(conn_.get()), "basic.consume " + sh_.queues[u]);
    ++sh_.consuming;
  }

  void loop() {
    const Options& o = *sh_.o;
    conn_.open(o, "chat-bench consumer");
    conn_.channel(1);
    const bool wait_for_queues = o.mode != Mode::direct;
    if (wait_for_queues) conn_.channel(2);
    size_t next = 0;
    int64_t next_probe = 0;
    while (!sh_.stop_consumers) {
      if (next < users_.size()) {
        int64_t now = now_ns();
        if (now >= next_probe || sh_.known[users_[next]].load(std::memory_order_relaxed)) {
          while (next < users_.size() && !sh_.stop_consumers) {
            size_t u = users_[next];
            if (wait_for_queues && !probe(sh_.queues[u])) {
              ++stats.failed_probes;
              // Until a join announces the queue: poll slowly, a little faster near the login frontier.
              bool near = int64_t(u) <= sh_.max_welcome_index.load() + int64_t(sh_.o->lookahead);
              next_probe = now_ns() + int64_t((near ? sh_.o->probe_near_ms : sh_.o->probe_far_ms) * 1e6);
              break;
            }
            consume(u);
            ++next;
          }
        }
      }
      amqp_maybe_release_buffers(conn_.get());
      timeval tv{0, next < users_.size() ? 2000 : 100000};
      amqp_envelope_t env;
      amqp_rpc_reply_t r = amqp_consume_message(conn_.get(), &env, &tv, 0);
      if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        handle(env);
        amqp_destroy_envelope(&env);
        continue;
      }
      if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT) continue;
      if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        amqp_frame_t f;
        int rc = amqp_simple_wait_frame(conn_.get(), &f);
        if (rc != AMQP_STATUS_OK) throw std::runtime_error(std::string("read frame: ") + amqp_error_string2(rc));
        if (f.frame_type == AMQP_FRAME_METHOD) {
          switch (f.payload.method.id) {
            case AMQP_BASIC_CANCEL_METHOD: ++stats.cancels; break;
            case AMQP_CHANNEL_CLOSE_METHOD:
            case AMQP_CONNECTION_CLOSE_METHOD:
              throw std::runtime_error("consumer " + close_reason(f.payload.method));
            default: break;
          }
        }
        continue;
      }
      throw std::runtime_error("consume: " + reply_text(r));
    }
  }

  void handle(const amqp_envelope_t& env) {
    int64_t now = now_ns();
    size_t u = std::strtoull(bytes_str(env.consumer_tag).c_str(), nullptr, 10);
    auto it = local_.find(u);
    if (it == local_.end()) {
      ++stats.foreign;
      return;
    }
    size_t lu = it->second;
    const char* b = static_cast<const char*>(env.message.body.bytes);
    const size_t n = env.message.body.len;
    std::string_view body(b, n);
    // fast path for chat deliveries: "type":"message" and "message":"t=...
    int64_t t = 0, s = 0, p = 0;
    bool is_msg = false;
    // (only when the body holds a single "type": a welcome's history embeds whole chat messages)
    auto tp = body.find("\"type\":\"");
    const bool single_type = tp != std::string_view::npos && body.find("\"type\":\"", tp + 8) == std::string_view::npos;
    if (single_type && body.compare(tp + 8, 5, "join\"") == 0) {
      // fast path for presence: N logins bring ~N^2/2 joins
      ++stats.joins;
      const std::string prefix = "\"login\":\"b" + sh_.o->runid + "u";
      auto lp = body.find(prefix);
      if (lp != std::string_view::npos) {
        size_t k = std::strtoull(b + lp + prefix.size(), nullptr, 10);
        if (k < sh_.o->users) sh_.known[k].store(true, std::memory_order_relaxed);
      }
      return;
    }
    if (single_type && body.compare(tp + 8, 8, "message\"") == 0) {
      auto mp = body.find("\"message\":\"t=");
      if (mp != std::string_view::npos && parse_stamp(b + mp + 11, b + n, t, s, p)) is_msg = true;
    }
    if (!is_msg) {
      json j = json::parse(body.begin(), body.end(), nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        ++stats.unparsable;
        return;
      }
      std::string type = j.value("type", "");
      if (type == "message") {
        std::string text = j.value("message", "");
        if (!parse_stamp(text.data(), text.data() + text.size(), t, s, p)) {
          ++stats.foreign;  // a chat message not sent by this run
          return;
        }
        is_msg = true;
      } else if (type == "batch") {
        ++stats.batch_frames;
        auto ms = j.find("messages");
        if (ms == j.end() || !ms->is_array()) {
          ++stats.other;
          return;
        }
        for (auto& m : *ms) {
          std::string text = m.is_object() ? m.value("message", "") : std::string{};
          if (parse_stamp(text.data(), text.data() + text.size(), t, s, p)) account(lu, now, t, s, p);
          else ++stats.foreign;
        }
        return;
      } else if (type == "welcome") {
        if (sh_.welcome_ns[u] != 0) {
          ++stats.dup_welcomes;
          std::string t = j.value("token", "");
          std::lock_guard<std::mutex> g(sh_.token_mu);
          if (t != sh_.tokens[u]) {
            ++stats.token_changes;
            sh_.tokens[u] = t;  // the latest session is the one to log out
          }
          return;
        }
        {
          std::lock_guard<std::mutex> g(sh_.token_mu);
          sh_.tokens[u] = j.value("token", "");
        }
        sh_.welcome_ns[u] = now;
        ++stats.welcomes;
        int64_t cur = sh_.max_welcome_index.load();
        while (int64_t(u) > cur && !sh_.max_welcome_index.compare_exchange_weak(cur, int64_t(u))) {
        }
        sh_.welcomes.fetch_add(1, std::memory_order_release);
        return;
      } else if (type == "join") {
        ++stats.joins;
        const std::string login = j.value("login", "");
        const std::string prefix = "b" + sh_.o->runid + "u";
        if (login.rfind(prefix, 0) == 0) {
          size_t k = std::strtoull(login.c_str() + prefix.size(), nullptr, 10);
          if (k < sh_.o->users) sh_.known[k].store(true, std::memory_order_relaxed);
        }
        return;
      } else if (type == "leave") {
        ++stats.leaves;
        return;
      } else if (type == "error") {
        ++stats.errors[j.value("code", "?")];
        return;
      } else {
        ++stats.other;
        return;
      }
    }
    account(lu, now, t, s, p);
  }

  /// One chat message (sender p, seq s, sent at t) received by local user lu at `now`.
  void account(size_t lu, int64_t now, int64_t t, int64_t s, int64_t p) {
    const size_t S = std::max<size_t>(sh_.o->senders, 1);
    if (p < 0 || size_t(p) >= S || s < 0 || size_t(s) >= sh_.per_sender) {
      ++stats.foreign;
      return;
    }
    ++stats.deliveries;
    sh_.delivered.fetch_add(1, std::memory_order_relaxed);
    auto bit = seen_[lu][size_t(p) * sh_.per_sender + size_t(s)];
    if (bit) {
      ++stats.duplicates;
      return;
    }
    bit = true;
    ++stats.unique;
    sh_.unique.fetch_add(1, std::memory_order_relaxed);
    int64_t& last = last_seq_[lu * S + size_t(p)];
    if (s < last) ++stats.reordered;
    else last = s;
    int64_t lat = now - t;
    stats.lat_us.push_back(uint32_t(std::clamp<int64_t>(lat / 1000, 0, INT32_MAX)));
    stats.last_recv_ns = now;
  }

  Shared& sh_;
  std::vector<size_t> users_;
  std::map<size_t, size_t> local_;
  std::vector<int64_t> last_seq_;
  std::vector<std::vector<bool>> seen_;
  Conn conn_;
};

// ---------------------------------------------------------------------------------------------
// senders

std::string pad_text(int64_t t, uint64_t seq, size_t sender, size_t size) {
  char head[96];
  int n = std::snprintf(head, sizeof head, "t=%" PRId64 ";s=%" PRIu64 ";p=%zu;", t, seq, sender);
  std::string text(head, size_t(n));
  if (text.size() < size) text.append(size - text.size(), 'x');
  return text;
}

void sender_thread(Shared& sh, size_t idx, uint64_t count) {
  const Options& o = *sh.o;
  try {
    Conn c;
    c.open(o, "chat-bench sender " + std::to_string(idx));
    c.channel(1);
    Publisher pub(c, 1, o.window);
    const std::string exchange = o.mode == Mode::direct ? "bench.fanout." + o.runid : "";
    const std::string rk = o.mode == Mode::direct ? "" : o.chat_queue;
    const std::string& login = sh.logins[idx];
    std::string token;
    {
      std::lock_guard<std::mutex> g(sh.token_mu);
      token = sh.tokens[idx];
    }
    while (!sh.start_senders && !g_interrupted) std::this_thread::sleep_for(std::chrono::microseconds(200));
    const int64_t t0 = now_ns();
    const double per_sender_rate = o.rate > 0 ? o.rate / double(std::max<size_t>(o.senders, 1)) : 0;
    const int64_t offset = o.rate > 0 ? int64_t(1e9 / o.rate * double(idx)) : 0;
    std::string body;
    body.reserve(o.size + 256);
    uint64_t confirmed_reported = 0;
    json held = json::array();  // direct mode, --batch: messages of the frame being filled
    int64_t held_since = 0;     // ... and the send time of its first message
    for (uint64_t seq = 0; seq < count && !g_interrupted && !sh.fatal; ++seq) {
      if (per_sender_rate > 0) {
        int64_t due = t0 + offset + int64_t(double(seq) * 1e9 / per_sender_rate);
        int64_t wait = due - now_ns();
        if (wait > 0) {
          pub.pump(false, 0);
          sleep_ns(wait);
        }
      }
      int64_t t = now_ns();
      uint64_t msgs = 1;  // chat messages in this publish
      std::string text = pad_text(t, seq, idx, o.size);
      std::string cid = login + "-" + std::to_string(seq);
      if (o.mode == Mode::direct) {
        json j = {{"v", 1},       {"type", "message"}, {"id", seq},   {"ts", t / 1000000}, {"room", o.room},
                  {"sender", login}, {"message", text},  {"cid", cid}};
        // --batch: batch frames of --batch-size messages (the last one may be shorter)
        if (o.batch) {
          if (held.empty()) held_since = t;
          held.push_back(std::move(j));
          if (held.size() < o.batch_size && seq + 1 < count) continue;
          msgs = held.size();
          j = {{"v", 1}, {"type", "batch"}, {"room", o.room}, {"messages", std::move(held)}};
          held = json::array();
        }
        body = j.dump();
      } else {
        json j = {{"v", 1}, {"sender", login}, {"message", text}, {"token", token}, {"cid", cid}};
        body = j.dump();
      }
      pub.publish(exchange, rk, body, true);
      int64_t expect = 0;
      sh.first_send_ns.compare_exchange_strong(expect, msgs > 1 ? held_since : t);
      int64_t last = sh.last_send_ns.load();
      while (t > last && !sh.last_send_ns.compare_exchange_weak(last, t)) {
      }
      sh.sent.fetch_add(msgs, std::memory_order_relaxed);
      if (pub.settled() != confirmed_reported) {
        sh.confirmed.fetch_add(pub.settled() - confirmed_reported, std::memory_order_relaxed);
        confirmed_reported = pub.settled();
      }
    }
    bool all = pub.wait_all(now_ns() + int64_t(o.timeout * 1e9));
    sh.confirmed.fetch_add(pub.settled() - confirmed_reported, std::memory_order_relaxed);
    if (!all) sh.fail("sender " + std::to_string(idx) + ": publisher confirms timed out");
    if (pub.nacked()) sh.fail("sender " + std::to_string(idx) + ": " + std::to_string(pub.nacked()) + " publishes nacked");
  } catch (const std::exception& e) {
    sh.fail("sender " + std::to_string(idx) + ": " + e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// statistics

struct Lat {
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
};

Lat latency_ms(std::vector<uint32_t>& v) {
  Lat l;
  if (v.empty()) return l;
  auto pct = [&](double q) {
    size_t k = std::min(v.size() - 1, size_t(std::ceil(q * double(v.size()))) - (q > 0 ? 1 : 0));
    std::nth_element(v.begin(), v.begin() + long(k), v.end());
    return double(v[k]) / 1000.0;
  };
  l.p50 = pct(0.50);
  l.p90 = pct(0.90);
  l.p99 = pct(0.99);
  l.max = double(*std::max_element(v.begin(), v.end())) / 1000.0;
  double sum = 0;
  for (auto x : v) sum += x;
  l.mean = sum / double(v.size()) / 1000.0;
  return l;
}

json lat_json(const Lat& l) {
  auto r3 = [](double x) { return std::round(x * 1000) / 1000; };
  return {{"p50", r3(l.p50)}, {"p90", r3(l.p90)}, {"p99", r3(l.p99)}, {"max", r3(l.max)}, {"mean", r3(l.mean)}};
}

std::string random_runid() {
  std::random_device rd;
  std::mt19937_64 g(rd() ^ uint64_t(now_ns()));
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 8; ++i) s += hex[g() % 16];
  return s;
}

Options parse(int argc, char** argv) {
  Options o;
  enum {
    o_mode = 256, o_amqp, o_vhost, o_user, o_password, o_users, o_senders, o_messages, o_rate, o_size, o_rooms,
    o_json, o_timeout, o_progress, o_qpc, o_window, o_runid, o_cpu, o_rss, o_linger, o_nologout, o_pnear, o_pfar, o_look, o_batch, o_bsize, o_help
  };
  static const option longopts[] = {
      {"mode", required_argument, nullptr, o_mode},         {"amqp", required_argument, nullptr, o_amqp},
      {"vhost", required_argument, nullptr, o_vhost},       {"user", required_argument, nullptr, o_user},
      {"password", required_argument, nullptr, o_password}, {"users", required_argument, nullptr, o_users},
      {"senders", required_argument, nullptr, o_senders},   {"messages", required_argument, nullptr, o_messages},
      {"rate", required_argument, nullptr, o_rate},         {"size", required_argument, nullptr, o_size},
      {"rooms", required_argument, nullptr, o_rooms},       {"json", no_argument, nullptr, o_json},
      {"timeout", required_argument, nullptr, o_timeout},   {"progress", no_argument, nullptr, o_progress},
      {"queues-per-conn", required_argument, nullptr, o_qpc}, {"window", required_argument, nullptr, o_window},
      {"runid", required_argument, nullptr, o_runid},       {"cpu-pid", required_argument, nullptr, o_cpu},
      {"rss-pid", required_argument, nullptr, o_rss},       {"linger", required_argument, nullptr, o_linger},
      {"no-logout", no_argument, nullptr, o_nologout},      {"probe-near-ms", required_argument, nullptr, o_pnear},
      {"probe-far-ms", required_argument, nullptr, o_pfar}, {"lookahead", required_argument, nullptr, o_look},
      {"batch", no_argument, nullptr, o_batch},             {"batch-size", required_argument, nullptr, o_bsize},             {"help", no_argument, nullptr, o_help},
      {nullptr, 0, nullptr, 0}};
  auto num = [](const char* s, const char* name) {
    char* end = nullptr;
    double v = std::strtod(s, &end);
    if (!end || *end || v < 0) {
      std::fprintf(stderr, "chat-bench: bad value for --%s: %s\n", name, s);
      std::exit(2);
    }
    return v;
  };
  int c;
  while ((c = getopt_long(argc, argv, "h", longopts, nullptr)) != -1) {
    switch (c) {
      case o_mode:
        if (!std::strcmp(optarg, "relay")) o.mode = Mode::relay;
        else if (!std::strcmp(optarg, "direct")) o.mode = Mode::direct;
        else if (!std::strcmp(optarg, "login")) o.mode = Mode::login;
        else {
          std::fprintf(stderr, "chat-bench: --mode must be relay, direct or login\n");
          std::exit(2);
        }
        break;
      case o_amqp: {
        std::string a = optarg;
        auto colon = a.rfind(':');
        if (colon == std::string::npos) o.host = a;
        else {
          o.host = a.substr(0, colon);
          o.port = int(num(a.c_str() + colon + 1, "amqp"));
        }
        break;
      }
      case o_batch: o.batch = true; break;
      case o_bsize: o.batch_size = std::max<size_t>(1, size_t(num(optarg, "batch-size"))); break;
      case o_vhost: o.vhost = optarg; break;
      case o_user: o.user = optarg; break;
      case o_password: o.password = optarg; break;
      case o_users: o.users = size_t(num(optarg, "users")); break;
      case o_senders: o.senders = size_t(num(optarg, "senders")); break;
      case o_messages: o.messages = uint64_t(num(optarg, "messages")); break;
      case o_rate: o.rate = num(optarg, "rate"); break;
      case o_size: o.size = size_t(num(optarg, "size")); break;
      case o_rooms:
        if (std::strcmp(optarg, "no") != 0) {
          std::fprintf(stderr, "chat-bench: only --rooms no (one room, main) is supported\n");
          std::exit(2);
        }
        break;
      case o_json: o.json_out = true; break;
      case o_timeout: o.timeout = num(optarg, "timeout"); break;
      case o_progress: o.progress = true; break;
      case o_qpc: o.queues_per_conn = size_t(num(optarg, "queues-per-conn")); break;
      case o_window: o.window = std::max<size_t>(1, size_t(num(optarg, "window"))); break;
      case o_runid: o.runid = optarg; break;
      case o_cpu: {
        std::string a = optarg;
        auto colon = a.rfind(':');
        if (colon == std::string::npos) usage(2);
        o.cpu.push_back({a.substr(0, colon), int(num(a.c_str() + colon + 1, "cpu-pid"))});
        break;
      }
      case o_rss: o.rss_pid = int(num(optarg, "rss-pid")); break;
      case o_linger: o.linger = num(optarg, "linger"); break;
      case o_nologout: o.no_logout = true; break;
      case o_pnear: o.probe_near_ms = num(optarg, "probe-near-ms"); break;
      case o_pfar: o.probe_far_ms = num(optarg, "probe-far-ms"); break;
      case o_look: o.lookahead = size_t(num(optarg, "lookahead")); break;
      case o_help:
      case 'h': usage(0);
      default: usage(2);
    }
  }
  if (optind < argc) usage(2);
  if (o.users == 0) {
    std::fprintf(stderr, "chat-bench: --users must be >= 1\n");
    std::exit(2);
  }
  if (o.mode != Mode::login) {
    if (o.senders == 0) o.senders = 1;
    if (o.mode == Mode::relay && o.senders > o.users) {
      std::fprintf(stderr, "chat-bench: relay mode needs --senders <= --users\n");
      std::exit(2);
    }
  }
  if (o.runid.empty()) o.runid = random_runid();
  if (o.queues_per_conn == 0) {
    size_t conns = std::min(o.users, std::max<size_t>(4, size_t(std::lround(std::sqrt(double(o.users))))));
    o.queues_per_conn = (o.users + conns - 1) / conns;
  }
  return o;
}

const char* mode_name(Mode m) { return m == Mode::relay ? "relay" : m == Mode::direct ? "direct" : "login"; }

}  // namespace

// ---------------------------------------------------------------------------------------------

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGPIPE, SIG_IGN);

  Shared sh;
  sh.o = &o;
  const size_t N = o.users;
  const size_t S = o.mode == Mode::login ? 0 : o.senders;
  const uint64_t M = o.mode == Mode::login ? 0 : o.messages;
  sh.per_sender = S ? size_t((M + S - 1) / S) : 0;
  // direct mode has no logins: its senders just use the same names
  for (size_t i = 0; i < std::max(N, S); ++i) sh.logins.push_back("b" + o.runid + "u" + std::to_string(i));
  for (size_t i = 0; i < N; ++i) sh.queues.push_back("chat.user.bench." + o.runid + "." + std::to_string(i));
  sh.tokens.assign(std::max(N, S), "");
  sh.known = std::make_unique<std::atomic<bool>[]>(N);
  for (size_t i = 0; i < N; ++i) sh.known[i] = false;
  sh.login_sent_ns.assign(N, 0);
  sh.welcome_ns.assign(N, 0);

  json out;
  out["mode"] = mode_name(o.mode);
  out["runid"] = o.runid;
  out["users"] = N;
  out["senders"] = S;
  out["messages"] = M;
  out["rate"] = o.rate;
  out["size"] = o.size;
  out["queues_per_conn"] = o.queues_per_conn;
  out["window"] = o.window;
  bool timed_out = false;
  std::vector<std::string> notes;

  auto progress_line = [&](int64_t start, const char* phase) {
    static int64_t last_print = 0;
    static uint64_t last_del = 0, last_sent = 0;
    int64_t now = now_ns();
    if (!o.progress || now - last_print < 1000000000) return;
    double dt = last_print ? secs(now - last_print) : secs(now - start);
    uint64_t del = sh.delivered.load(), snt = sh.sent.load();
    std::fprintf(stderr,
                 "[%6.1fs] %-9s welcomes %" PRIu64 "/%zu  sent %" PRIu64 "/%" PRIu64 " (%.0f/s) confirmed %" PRIu64
                 "  delivered %" PRIu64 "/%" PRIu64 " (%.0f/s)\n",
                 secs(now - start), phase, sh.welcomes.load(), N, snt, M, double(snt - last_sent) / dt,
                 sh.confirmed.load(), del, M * N, double(del - last_del) / dt);
    last_print = now;
    last_del = del;
    last_sent = snt;
  };

  const int64_t run_start = now_ns();
  Conn ctl;
  std::vector<std::unique_ptr<Consumer>> consumers;
  std::vector<std::thread> cthreads;
  bool declared = false;
  int64_t rss_before = -1, rss_after = -1;
  std::vector<double> cpu_before(o.cpu.size(), -1), cpu_after(o.cpu.size(), -1);
  double self_cpu_before = 0, self_cpu_after = 0;
  int64_t meas_start = 0, meas_end = 0;
  auto snap_cpu = [&](std::vector<double>& v) {
    for (size_t k = 0; k < o.cpu.size(); ++k) v[k] = proc_cpu_seconds(o.cpu[k].pid);
  };
  int rc_exit = 0;

  try {
    ctl.open(o, "chat-bench control");
    ctl.channel(1);

    if (o.mode == Mode::direct) {
      const std::string ex = "bench.fanout." + o.runid;
      amqp_exchange_declare(ctl.get(), 1, amqp_cstring_bytes(ex.c_str()), amqp_cstring_bytes("fanout"), 0, 1, 0, 0,
                            amqp_empty_table);
      check(amqp_get_rpc_reply(ctl.get()), "exchange.declare " + ex);
      declared = true;
      amqp_table_entry_t arg;
      arg.key = amqp_cstring_bytes("x-expires");
      arg.value.kind = AMQP_FIELD_KIND_I32;
      arg.value.value.i32 = 300000;
      amqp_table_t args{1, &arg};
      const int64_t setup_start = now_ns();
      for (size_t i = 0; i < N; ++i) {
        amqp_queue_declare(ctl.get(), 1, amqp_cstring_bytes(sh.queues[i].c_str()), 0, 1, 0, 0, args);
        check(amqp_get_rpc_reply(ctl.get()), "queue.declare " + sh.queues[i]);
        amqp_queue_bind(ctl.get(), 1, amqp_cstring_bytes(sh.queues[i].c_str()), amqp_cstring_bytes(ex.c_str()),
                        amqp_cstring_bytes(""), amqp_empty_table);
        check(amqp_get_rpc_reply(ctl.get()), "queue.bind " + sh.queues[i]);
      }
      out["declare_bind_per_s"] = N / std::max(1e-9, secs(now_ns() - setup_start));
    }

    // consumers: one connection + thread per queues_per_conn user queues
    for (size_t a = 0; a < N; a += o.queues_per_conn) {
      std::vector<size_t> us;
      for (size_t i = a; i < std::min(N, a + o.queues_per_conn); ++i) us.push_back(i);
      consumers.push_back(std::make_unique<Consumer>(sh, std::move(us)));
    }
    for (auto& c : consumers) cthreads.emplace_back([&c] { c->run(); });

    if (o.mode != Mode::direct) {
      // log in N users, pipelined through publisher confirms
      if (o.rss_pid) rss_before = proc_rss_bytes(o.rss_pid);
      if (o.mode == Mode::login) {
        snap_cpu(cpu_before);
        self_cpu_before = self_cpu_seconds();
      }
      Publisher lp(ctl, 1, std::max<size_t>(o.window, 1000));
      const int64_t login_start = now_ns();
      meas_start = login_start;
      for (size_t i = 0; i < N && !g_interrupted && !sh.fatal; ++i) {
        json j = {{"v", 1}, {"action", "login"}, {"login", sh.logins[i]}, {"queue", sh.queues[i]}};
        if (o.batch) j["batch"] = true;
        sh.login_sent_ns[i] = now_ns();
        lp.publish("", o.login_queue, j.dump(), false);
        progress_line(run_start, "login");
      }
      const int64_t last_login_pub = now_ns();
      if (!lp.wait_all(now_ns() + int64_t(o.timeout * 1e9))) throw std::runtime_error("login publishes not confirmed");
      if (lp.nacked()) throw std::runtime_error("login publishes nacked: " + std::to_string(lp.nacked()));
      const int64_t deadline = last_login_pub + int64_t(o.timeout * 1e9);
      while (sh.welcomes.load(std::memory_order_acquire) < N && !g_interrupted && !sh.fatal) {
        if (now_ns() > deadline) {
          timed_out = true;
          notes.push_back("timeout waiting for welcomes: " + std::to_string(sh.welcomes.load()) + "/" +
                          std::to_string(N));
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        progress_line(run_start, "login");
      }
      int64_t last_welcome = 0;
      std::vector<uint32_t> wl;
      for (size_t i = 0; i < N; ++i)
        if (sh.welcome_ns[i]) {
          last_welcome = std::max(last_welcome, sh.welcome_ns[i]);
          wl.push_back(uint32_t(std::clamp<int64_t>((sh.welcome_ns[i] - sh.login_sent_ns[i]) / 1000, 0, INT32_MAX)));
        }
      json lj;
      lj["welcomes"] = sh.welcomes.load();
      lj["publish_s"] = secs(last_login_pub - login_start);
      lj["elapsed_s"] = last_welcome ? secs(last_welcome - login_start) : 0.0;
      lj["logins_per_s"] = last_welcome > login_start ? double(sh.welcomes.load()) / secs(last_welcome - login_start) : 0.0;
      lj["welcome_latency_ms"] = lat_json(latency_ms(wl));
      out["login"] = lj;
      if (o.mode == Mode::login) {
        meas_end = last_welcome ? last_welcome : now_ns();
        snap_cpu(cpu_after);
        self_cpu_after = self_cpu_seconds();
      }
      if (o.rss_pid) {
        // let the relay settle (allocations of the last logins)
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        rss_after = proc_rss_bytes(o.rss_pid);
      }
    } else {
      const int64_t deadline = now_ns() + int64_t(o.timeout * 1e9);
      while (sh.consuming.load() < N && !sh.fatal && !g_interrupted) {
        if (now_ns() > deadline) throw std::runtime_error("consumers did not start");
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    }

    if (o.mode != Mode::login && !timed_out && !sh.fatal && !g_interrupted) {
      std::vector<std::thread> sthreads;
      for (size_t k = 0; k < S; ++k) {
        uint64_t cnt = M / S + (k < M % S ? 1 : 0);
        sthreads.emplace_back(sender_thread, std::ref(sh), k, cnt);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // connections up
      snap_cpu(cpu_before);
      self_cpu_before = self_cpu_seconds();
      meas_start = now_ns();
      sh.start_senders = true;
      const uint64_t expected = M * N;
      // wait: senders finish, then deliveries until expected or timeout after the last send
      for (;;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        progress_line(run_start, "send");
        if (sh.unique.load() >= expected || sh.fatal || g_interrupted) break;
        if (sh.sent.load() >= M) {
          int64_t ls = sh.last_send_ns.load();
          if (now_ns() > ls + int64_t(o.timeout * 1e9)) {
            timed_out = true;
            notes.push_back("timeout waiting for deliveries");
            break;
          }
        }
      }
      meas_end = now_ns();
      snap_cpu(cpu_after);
      self_cpu_after = self_cpu_seconds();
      for (auto& t : sthreads) t.join();
      if (!timed_out && o.linger > 0) std::this_thread::sleep_for(std::chrono::milliseconds(int64_t(o.linger * 1000)));
    }
  } catch (const std::exception& e) {
    sh.fail(e.what());
  }

  // stop consumers before logout so the relay can delete the queues
  sh.stop_consumers = true;
  for (auto& t : cthreads) t.join();

  // cleanup
  try {
    if (o.mode == Mode::direct && declared) {
      for (size_t i = 0; i < N; ++i) {
        amqp_queue_delete(ctl.get(), 1, amqp_cstring_bytes(sh.queues[i].c_str()), 0, 0);
        check(amqp_get_rpc_reply(ctl.get()), "queue.delete " + sh.queues[i]);
      }
      const std::string ex = "bench.fanout." + o.runid;
      amqp_exchange_delete(ctl.get(), 1, amqp_cstring_bytes(ex.c_str()), 0);
      check(amqp_get_rpc_reply(ctl.get()), "exchange.delete " + ex);
    } else if (o.mode != Mode::direct && !o.no_logout && ctl.get()) {
      ctl.channel(2);  // fresh channel: channel 1 may carry the login publisher's state
      Publisher lp(ctl, 2, std::max<size_t>(o.window, 1000));
      size_t n = 0;
      for (size_t i = 0; i < N; ++i) {
        if (sh.tokens[i].empty()) continue;
        json j = {{"v", 1}, {"action", "logout"}, {"login", sh.logins[i]}, {"token", sh.tokens[i]}};
        lp.publish("", o.login_queue, j.dump(), false);
        ++n;
      }
      if (!lp.wait_all(now_ns() + int64_t(o.timeout * 1e9))) notes.push_back("logout publishes not confirmed");
      out["logouts"] = n;
      // check that the relay deletes the queues (a sample of up to 20)
      std::vector<size_t> sample;
      for (size_t i = 0; i < N && sample.size() < 20; i += std::max<size_t>(1, N / 20))
        if (!sh.tokens[i].empty()) sample.push_back(i);
      ctl.channel(3);
      size_t left = sample.size();
      const int64_t deadline = now_ns() + int64_t(std::min(o.timeout, 10.0) * 1e9);
      std::vector<bool> gone(sample.size(), false);
      while (left && now_ns() < deadline) {
        for (size_t k = 0; k < sample.size(); ++k) {
          if (gone[k]) continue;
          amqp_queue_declare(ctl.get(), 3, amqp_cstring_bytes(sh.queues[sample[k]].c_str()), 1, 0, 0, 0, amqp_empty_table);
          amqp_rpc_reply_t r = amqp_get_rpc_reply(ctl.get());
          if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_ok_t ok{};
            amqp_send_method(ctl.get(), 3, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
            ctl.channel(3);
            gone[k] = true;
            --left;
          } else {
            check(r, "passive declare");
          }
        }
        if (left) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      out["queues_left_after_logout"] = {{"sampled", sample.size()}, {"left", left}};
      if (left) notes.push_back(std::to_string(left) + " of " + std::to_string(sample.size()) +
                                " sampled user queues still exist after logout");
    }
  } catch (const std::exception& e) {
    notes.push_back(std::string("cleanup: ") + e.what());
  }
  ctl.close();

  // aggregate
  ConsumerStats tot;
  std::vector<uint32_t> lat;
  size_t total_lat = 0;
  for (auto& c : consumers) total_lat += c->stats.lat_us.size();
  lat.reserve(total_lat);
  for (auto& c : consumers) {
    auto& s = c->stats;
    tot.deliveries += s.deliveries;
    tot.unique += s.unique;
    tot.duplicates += s.duplicates;
    tot.reordered += s.reordered;
    tot.welcomes += s.welcomes;
    tot.dup_welcomes += s.dup_welcomes;
    tot.token_changes += s.token_changes;
    tot.failed_probes += s.failed_probes;
    tot.joins += s.joins;
    tot.leaves += s.leaves;
    tot.other += s.other;
    tot.unparsable += s.unparsable;
    tot.foreign += s.foreign;
    tot.cancels += s.cancels;
    tot.batch_frames += s.batch_frames;
    for (auto& [k, v] : s.errors) tot.errors[k] += v;
    lat.insert(lat.end(), s.lat_us.begin(), s.lat_us.end());
    tot.last_recv_ns = std::max(tot.last_recv_ns, s.last_recv_ns);
  }
  const uint64_t expected = M * N;
  const uint64_t missing = o.mode == Mode::login ? 0 : expected - std::min(expected, tot.unique);
  const int64_t first_send = sh.first_send_ns.load(), last_send = sh.last_send_ns.load();
  if (o.mode != Mode::login) {
    double span = first_send && tot.last_recv_ns > first_send ? secs(tot.last_recv_ns - first_send) : 0;
    out["expected"] = expected;
    out["deliveries"] = tot.deliveries;
    out["unique"] = tot.unique;
    out["missing"] = missing;
    out["duplicates"] = tot.duplicates;
    out["reordered"] = tot.reordered;
    out["sent"] = sh.sent.load();
    out["confirmed"] = sh.confirmed.load();
    out["elapsed_s"] = span;
    out["deliveries_per_s"] = span > 0 ? double(tot.unique) / span : 0.0;
    out["publish_rate"] = last_send > first_send ? double(sh.sent.load()) / secs(last_send - first_send) : 0.0;
    out["latency_ms"] = lat_json(latency_ms(lat));
  }
  out["joins"] = tot.joins;
  out["leaves"] = tot.leaves;
  out["welcomes"] = tot.welcomes;
  out["duplicate_welcomes"] = tot.dup_welcomes;
  out["welcome_token_changes"] = tot.token_changes;
  out["failed_queue_probes"] = tot.failed_probes;
  out["errors"] = tot.errors;
  out["other"] = tot.other + tot.unparsable;
  out["foreign"] = tot.foreign;
  out["consumer_cancels"] = tot.cancels;
  out["batch"] = o.batch;
  out["batch_frames"] = tot.batch_frames;
  out["consumer_connections"] = consumers.size();
  // CPU during the measured phase
  json cpu = json::object();
  const double deliveries_for_cpu = double(o.mode == Mode::login ? N : tot.unique);
  for (size_t k = 0; k < o.cpu.size(); ++k) {
    if (cpu_before[k] < 0 || cpu_after[k] < 0) continue;
    double d = cpu_after[k] - cpu_before[k];
    json e = {{"pid", o.cpu[k].pid}, {"cpu_s", d}};
    if (o.mode == Mode::login) e["cpu_ms_per_1k_logins"] = N ? d * 1e6 / double(N) : 0.0;
    else e["cpu_s_per_100k_deliveries"] = deliveries_for_cpu > 0 ? d * 1e5 / deliveries_for_cpu : 0.0;
    cpu[o.cpu[k].label] = e;
  }
  {
    double d = self_cpu_after - self_cpu_before;
    json e = {{"cpu_s", d}};
    if (o.mode != Mode::login && deliveries_for_cpu > 0) e["cpu_s_per_100k_deliveries"] = d * 1e5 / deliveries_for_cpu;
    cpu["bench"] = e;
  }
  out["cpu"] = cpu;
  out["measured_s"] = meas_end > meas_start ? secs(meas_end - meas_start) : 0.0;
  if (o.rss_pid) {
    out["rss"] = {{"pid", o.rss_pid},
                  {"before", rss_before},
                  {"after", rss_after},
                  {"bytes_per_user", rss_before >= 0 && rss_after >= 0 && N ? double(rss_after - rss_before) / double(N) : 0.0}};
  }
  for (auto& m : sh.fatal_msgs) notes.push_back("error: " + m);
  if (g_interrupted) notes.push_back("interrupted");
  if (o.mode == Mode::login && tot.welcomes < N) timed_out = true;
  out["timeout"] = timed_out;
  out["notes"] = notes;
  out["total_s"] = secs(now_ns() - run_start);
  const bool ok = !timed_out && !sh.fatal && !g_interrupted && missing == 0 && tot.duplicates == 0 && tot.reordered == 0;
  out["ok"] = ok;
  rc_exit = ok ? 0 : 1;

  if (o.json_out) {
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("chat-bench %s  run %s  users %zu  senders %zu  messages %" PRIu64 "  rate %s  size %zu\n",
                mode_name(o.mode), o.runid.c_str(), N, S, M, o.rate > 0 ? std::to_string(o.rate).c_str() : "flat-out",
                o.size);
    if (out.contains("login")) {
      auto& l = out["login"];
      std::printf("  logins           %10" PRIu64 " welcomes in %.3f s = %.0f logins/s  (welcome latency p50 %.2f "
                  "p99 %.2f max %.2f ms)\n",
                  l["welcomes"].get<uint64_t>(), l["elapsed_s"].get<double>(), l["logins_per_s"].get<double>(),
                  l["welcome_latency_ms"]["p50"].get<double>(), l["welcome_latency_ms"]["p99"].get<double>(),
                  l["welcome_latency_ms"]["max"].get<double>());
    }
    if (o.mode != Mode::login) {
      auto& l = out["latency_ms"];
      std::printf("  %-22s %14s\n", "metric", "value");
      std::printf("  %-22s %14.0f\n", "deliveries/s", out["deliveries_per_s"].get<double>());
      std::printf("  %-22s %14.0f\n", "publish rate msg/s", out["publish_rate"].get<double>());
      std::printf("  %-22s %14.3f\n", "latency p50 ms", l["p50"].get<double>());
      std::printf("  %-22s %14.3f\n", "latency p90 ms", l["p90"].get<double>());
      std::printf("  %-22s %14.3f\n", "latency p99 ms", l["p99"].get<double>());
      std::printf("  %-22s %14.3f\n", "latency max ms", l["max"].get<double>());
      std::printf("  %-22s %14" PRIu64 " / %" PRIu64 "\n", "delivered (unique)", tot.unique, expected);
      std::printf("  %-22s %14" PRIu64 "\n", "missing", missing);
      std::printf("  %-22s %14" PRIu64 "\n", "duplicates", tot.duplicates);
      std::printf("  %-22s %14" PRIu64 "\n", "reordered", tot.reordered);
      std::printf("  %-22s %14.3f\n", "elapsed s", out["elapsed_s"].get<double>());
    }
    if (!tot.errors.empty()) {
      std::printf("  errors from relay:");
      for (auto& [k, v] : tot.errors) std::printf(" %s=%" PRIu64, k.c_str(), v);
      std::printf("\n");
    }
    if (tot.joins || tot.leaves) std::printf("  join events %" PRIu64 ", leave events %" PRIu64 "\n", tot.joins, tot.leaves);
    if (tot.dup_welcomes)
      std::printf("  duplicate welcomes %" PRIu64 " (%" PRIu64 " with a new token)\n", tot.dup_welcomes, tot.token_changes);
    for (auto& [label, e] : cpu.items()) {
      std::printf("  cpu %-8s %.3f s", label.c_str(), e["cpu_s"].get<double>());
      if (e.contains("cpu_s_per_100k_deliveries"))
        std::printf("  (%.3f s per 100k deliveries)", e["cpu_s_per_100k_deliveries"].get<double>());
      if (e.contains("cpu_ms_per_1k_logins"))
        std::printf("  (%.1f ms per 1k logins)", e["cpu_ms_per_1k_logins"].get<double>());
      std::printf("\n");
    }
    if (out.contains("rss"))
      std::printf("  rss before %" PRId64 " after %" PRId64 " = %.0f bytes/user\n", rss_before, rss_after,
                  out["rss"]["bytes_per_user"].get<double>());
    for (auto& n : notes) std::printf("  note: %s\n", n.c_str());
    std::printf("  result: %s\n", ok ? "OK" : "FAIL");
  }
  return rc_exit;
}
