#include "broker/amqp_client.hpp"

#include "broker/confirm_tracker.hpp"
#include "broker/leader_lock.hpp"
#include "broker/queue_pipeline.hpp"
#include "chatrelay/internal/logging.hpp"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <unordered_set>

namespace chatrelay::broker {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr const char* component = "broker";

// Channels, one job each: a refused exclusive consume closes only its own
// channel, and an admin error never touches publishing.
constexpr amqp_channel_t chat_channel = 1;
constexpr amqp_channel_t first_publish_channel = 2;
constexpr amqp_channel_t admin_channel = 3;
constexpr amqp_channel_t events_channel = 4;
constexpr amqp_channel_t login_channel = 5;
/// Not a channel: the confirm tracker settles a publish that reports its
/// confirm (publish_batch::confirm_request) here instead of acking.
constexpr amqp_channel_t confirm_report = 0;
// A publish channel reopened after a missed confirm takes a number never
// used on this connection so far (up to the last, then round again): a late
// confirm of the old channel can then never be taken for one of the new.
constexpr amqp_channel_t first_spare_channel = 6;
constexpr amqp_channel_t last_spare_channel = 1000;
// Queue operations (user-queue declares, binds, unbinds, deletes) have
// channels of their own, a queue always the same one: they are pipelined and
// their answers read as they come, so they never hold publishes or confirms.
constexpr amqp_channel_t first_queue_channel = 1001;
constexpr size_t queue_channels = 4;
/// Methods of queue operations awaiting their answer, per channel.
constexpr size_t queue_window = 512;
/// How often the new holder of `chat` tries `login` while the previous
/// holder's consumer of it is still going away.
constexpr auto login_retry = 50ms;

std::vector<uint16_t> queue_channel_numbers() {
  std::vector<uint16_t> out;
  for (size_t i = 0; i < queue_channels; ++i)
    out.push_back(static_cast<uint16_t>(first_queue_channel + i));
  return out;
}

/// A connection-level failure: the client reconnects.
struct connection_lost : std::runtime_error {
  using std::runtime_error::runtime_error;
};

amqp_bytes_t bytes(const std::string& str) {
  return amqp_bytes_t{str.size(), const_cast<char*>(str.data())};
}

std::string to_string(amqp_bytes_t b) {
  return std::string{static_cast<const char*>(b.bytes), b.len};
}

std::string describe(const amqp_rpc_reply_t& r) {
  switch (r.reply_type) {
  case AMQP_RESPONSE_NORMAL:
    return "ok";
  case AMQP_RESPONSE_NONE:
    return "missing RPC reply";
  case AMQP_RESPONSE_LIBRARY_EXCEPTION:
    return amqp_error_string2(r.library_error);
  case AMQP_RESPONSE_SERVER_EXCEPTION:
    if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
      auto* m = static_cast<amqp_connection_close_t*>(r.reply.decoded);
      return "connection closed: " + std::to_string(m->reply_code) + " " +
             to_string(m->reply_text);
    }
    if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
      auto* m = static_cast<amqp_channel_close_t*>(r.reply.decoded);
      return "channel closed: " + std::to_string(m->reply_code) + " " +
             to_string(m->reply_text);
    }
    return "server exception";
  }
  return "unknown reply";
}

} // namespace

/// One live AMQP connection; destroyed on any connection-level failure.
class amqp_client::connection {
public:
  connection(amqp_client& client, const amqp_address& addr, uint64_t generation)
      : s_(client), generation_(generation),
        lock_(client.opts_.failover, login_retry),
        pipeline_(queue_channel_numbers(), queue_window),
        confirms_(std::chrono::duration_cast<broker::duration>(
            client.opts_.confirm_timeout)) {
    confirms_.on_latency = [this](broker::duration d) {
      s_.metrics_->publish_latency.Observe(
          std::chrono::duration<double>(d).count());
    };
    conn_ = amqp_new_connection();
    try {
      open(addr);
    } catch (...) {
      s_.set_live_fd(-1);
      amqp_destroy_connection(conn_);
      throw;
    }
  }

  ~connection() {
    // Best effort: a broken socket makes this fail quickly.
    if (!broken_) amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
    // Unregistered before the socket is closed: stop() must never shut down
    // a descriptor number the process has since reused.
    s_.set_live_fd(-1);
    amqp_destroy_connection(conn_);
  }

private:
  void open(const amqp_address& addr) {
    auto* sock = amqp_tcp_socket_new(conn_);
    if (!sock) throw connection_lost("cannot create socket");
    timeval tv{2, 0};
    if (auto rc =
            amqp_socket_open_noblock(sock, addr.host.c_str(), addr.port, &tv);
        rc != AMQP_STATUS_OK)
      throw connection_lost(std::string{"cannot connect: "} +
                            amqp_error_string2(rc));
    fd_ = amqp_socket_get_sockfd(sock);
    s_.set_live_fd(fd_);
    // Bound every handshake step and RPC: a peer that accepts but never
    // answers must not hang the client.
    // Generous: a broker under load can take seconds to answer a declare,
    // and a timeout drops the connection.
    timeval rpc_timeout{30, 0};
    amqp_set_handshake_timeout(conn_, &rpc_timeout);
    amqp_set_rpc_timeout(conn_, &rpc_timeout);
    login();
    open_publish_channel();
    open_channel(admin_channel);
    open_channel(events_channel);
    declare_topology();
  }

public:
  /// Serves until stop or failure (then throws connection_lost).
  void serve() {
    lock_.connected(generation_, clock_type::now());
    while (!s_.stopping_) {
      compete(clock_type::now());
      // While the broker blocks publishing, batches wait in the backlog (and
      // queue operations in the pipeline while it is slow to answer them);
      // past their bound the commands wait in the queue, then submit() waits.
      if (backlog_.size() < s_.max_commands_ &&
          pipeline_.pending() < s_.max_commands_)
        run_commands(s_.take_commands());
      flush_backlog();
      read_frames();
      pump_queue_operations();
      check_confirm_deadline();
      amqp_maybe_release_buffers(conn_);
      if (amqp_frames_enqueued(conn_) || amqp_data_in_buffer(conn_)) continue;
      pollfd fds[2] = {{fd_, POLLIN, 0}, {s_.wake_fd_, POLLIN, 0}};
      auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::min<clock_type::duration>(lock_.until_next(clock_type::now()),
                                         50ms));
      auto timeout = std::max<int>(1, static_cast<int>(until.count()));
      if (::poll(fds, 2, timeout) > 0 && (fds[1].revents & POLLIN)) {
        uint64_t dummy;
        [[maybe_unused]] auto n = ::read(s_.wake_fd_, &dummy, sizeof(dummy));
      }
    }
  }

private:
  // -- connection set-up ------------------------------------------------------

  void login() {
    // Announce the capabilities we handle, notably connection.blocked.
    auto flag = [](const char* name) {
      amqp_table_entry_t e{};
      e.key = amqp_cstring_bytes(name);
      e.value.kind = AMQP_FIELD_KIND_BOOLEAN;
      e.value.value.boolean = 1;
      return e;
    };
    amqp_table_entry_t caps[] = {flag("connection.blocked"),
                                 flag("consumer_cancel_notify"),
                                 flag("publisher_confirms")};
    amqp_table_entry_t props[2];
    props[0].key = amqp_cstring_bytes("capabilities");
    props[0].value.kind = AMQP_FIELD_KIND_TABLE;
    props[0].value.value.table = {3, caps};
    props[1].key = amqp_cstring_bytes("connection_name");
    props[1].value.kind = AMQP_FIELD_KIND_UTF8;
    props[1].value.value.bytes = bytes(s_.opts_.id);
    amqp_table_t client_props{2, props};
    auto hb = std::chrono::duration_cast<std::chrono::seconds>(
                  s_.opts_.amqp_heartbeat)
                  .count();
    auto r = amqp_login_with_properties(
        conn_, s_.opts_.amqp_vhost.c_str(), 0, 131072, static_cast<int>(hb),
        &client_props, AMQP_SASL_METHOD_PLAIN, s_.opts_.amqp_user.c_str(),
        s_.opts_.amqp_password.c_str());
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
      throw connection_lost("login failed: " + describe(r));
  }

  void open_channel(amqp_channel_t ch) {
    amqp_channel_open(conn_, ch);
    check(amqp_get_rpc_reply(conn_), "channel.open");
  }

  void open_publish_channel() {
    open_channel(publish_ch_);
    amqp_confirm_select(conn_, publish_ch_);
    check(amqp_get_rpc_reply(conn_), "confirm.select");
  }

  void declare_topology() {
    auto& o = s_.opts_;
    // Exactly as a STOMP client declares an unprefixed destination: durable,
    // no arguments (anything else makes the seed's clients fail).
    for (auto* q : {&o.login_queue, &o.chat_queue}) {
      amqp_queue_declare(conn_, admin_channel, bytes(*q), 0, 1, 0, 0,
                         amqp_empty_table);
      check(amqp_get_rpc_reply(conn_), "queue.declare " + *q);
    }
    declare_exchange(o.events_exchange);
    // This relay's own view of the shared events: exclusive, auto-delete.
    auto* ok = amqp_queue_declare(conn_, admin_channel, amqp_empty_bytes, 0, 0,
                                  1, 1, amqp_empty_table);
    check(amqp_get_rpc_reply(conn_), "queue.declare (events)");
    auto events_queue = to_string(ok->queue);
    amqp_queue_bind(conn_, admin_channel, bytes(events_queue),
                    bytes(o.events_exchange), amqp_empty_bytes,
                    amqp_empty_table);
    check(amqp_get_rpc_reply(conn_), "queue.bind (events)");
    // Acknowledged, with a prefetch: the broker holds what this relay has
    // not taken yet, instead of pushing it all into the socket's buffers.
    amqp_basic_qos(conn_, events_channel, 0,
                   static_cast<uint16_t>(defaults::amqp::events_prefetch), 0);
    check_rpc(amqp_get_rpc_reply(conn_), "basic.qos (events)", events_channel);
    amqp_basic_consume(conn_, events_channel, bytes(events_queue),
                       amqp_cstring_bytes("events"), 0, 0, 1, amqp_empty_table);
    check(amqp_get_rpc_reply(conn_), "basic.consume (events)");
  }

  void declare_exchange(const std::string& name) {
    if (name.empty()) return;
    amqp_exchange_declare(conn_, admin_channel, bytes(name),
                          amqp_cstring_bytes("fanout"), 0, 1, 0, 0,
                          amqp_empty_table);
    check(amqp_get_rpc_reply(conn_), "exchange.declare " + name);
  }

  /// A room's exchange must exist before the first publish to it: declared
  /// on the publish channel itself, without waiting (the broker runs one
  /// channel's methods in order), once per channel. Should it fail, the
  /// broker closes the publish channel and the client reconnects.
  void declare_for_publish(const std::string& name) {
    if (name.empty() || name == s_.opts_.events_exchange ||
        !publish_exchanges_.insert(name).second)
      return;
    amqp_exchange_declare_t x{};
    x.exchange = bytes(name);
    x.type = amqp_cstring_bytes("fanout");
    x.durable = 1;
    x.nowait = 1;
    x.arguments = amqp_empty_table;
    if (amqp_send_method(conn_, publish_ch_, AMQP_EXCHANGE_DECLARE_METHOD,
                         &x) != AMQP_STATUS_OK) {
      broken_ = true;
      throw connection_lost("declaring exchange " + name + " failed");
    }
  }

  // -- error handling -------------------------------------------------------

  /// Throws on a connection-level failure; returns false after a channel
  /// error (the channel is then closed and must be reopened).
  bool check_rpc(const amqp_rpc_reply_t& r, const std::string& what,
                 amqp_channel_t ch) {
    if (r.reply_type == AMQP_RESPONSE_NORMAL) return true;
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
        r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
      amqp_channel_close_ok_t close_ok{};
      amqp_send_method(conn_, ch, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok);
      CHATRELAY_LOG(debug, component, what << ": " << describe(r));
      last_error_ = describe(r);
      return false;
    }
    broken_ = r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION;
    throw connection_lost(what + ": " + describe(r));
  }

  void check(const amqp_rpc_reply_t& r, const std::string& what) {
    if (!check_rpc(r, what, admin_channel))
      throw connection_lost(what + ": " + last_error_);
  }

  // -- the active role --------------------------------------------------------

  /// Does what the leader lock says is due: an exclusive consume of `chat`
  /// (the lock that makes one relay at a time order the rooms), then of
  /// `login`. Synchronous, but only while not (fully) active: an active
  /// relay's publishes never wait for it.
  void compete(clock_type::time_point now) {
    switch (lock_.next(now)) {
    case leader_lock::step::wait:
      return;
    case leader_lock::step::consume_chat:
      if (!consume_exclusive(chat_channel, chat_channel_open_,
                             s_.opts_.chat_queue, "chat")) {
        lock_.chat_refused(now); // another relay is active
        return;
      }
      lock_.chat_granted();
      CHATRELAY_LOG(info, component,
                    "this relay is now ACTIVE (exclusive "
                    "consumer of '"
                        << s_.opts_.chat_queue << "')");
      s_.callbacks_.on_role(relay_role::active, generation_);
      compete(now); // login at once
      return;
    case leader_lock::step::consume_login:
      if (consume_exclusive(login_channel, login_channel_open_,
                            s_.opts_.login_queue, "login"))
        lock_.login_granted();
      else
        lock_.login_refused(now); // the previous holder is still going away
      return;
    }
  }

  /// Opens `ch` (once) and consumes `queue` on it exclusively; false when
  /// another connection holds it (the broker then closed the channel).
  bool consume_exclusive(amqp_channel_t ch, bool& open,
                         const std::string& queue, const char* tag) {
    if (!open) {
      open_channel(ch);
      amqp_basic_qos(conn_, ch, 0,
                     static_cast<uint16_t>(s_.opts_.max_in_flight), 0);
      check(amqp_get_rpc_reply(conn_), "basic.qos");
      open = true;
    }
    amqp_basic_consume(conn_, ch, bytes(queue), amqp_cstring_bytes(tag), 0, 0,
                       1, amqp_empty_table);
    if (!check_rpc(amqp_get_rpc_reply(conn_), "basic.consume " + queue, ch)) {
      open = false;
      return false;
    }
    return true;
  }

  // -- commands ---------------------------------------------------------------

  /// Runs commands in order: publishes go out at once, queue operations to
  /// the pipeline (sent by pump_queue_operations, never waited for here).
  void run_commands(std::deque<command> cmds) {
    for (auto& cmd : cmds)
      std::visit([this](auto& x) { run(x); }, cmd);
    pump_queue_operations();
  }

  void run(declare_cmd& cmd) {
    pipeline_.submit({queue_request::declare, cmd.request,
                      std::move(cmd.binding.queue),
                      std::move(cmd.binding.exchanges)});
  }

  void run(unbind_cmd& cmd) {
    pipeline_.submit({queue_request::unbind, 0, std::move(cmd.binding.queue),
                      std::move(cmd.binding.exchanges)});
  }

  void run(delete_cmd& cmd) {
    pipeline_.submit({queue_request::remove, 0, std::move(cmd.queue), {}});
  }

  /// Sends the queue operations that are due and answers the finished ones.
  void pump_queue_operations() {
    for (auto& m : pipeline_.take_sends())
      send_queue_method(m);
    for (auto& [request, ok] : pipeline_.take_answers())
      s_.answer(request, ok);
  }

  void send_queue_method(const queue_method& m) {
    switch (m.kind) {
    case queue_method::open_channel: {
      amqp_channel_open_t open{};
      return send(m.channel, AMQP_CHANNEL_OPEN_METHOD, &open);
    }
    case queue_method::declare_exchange: {
      amqp_exchange_declare_t x{};
      x.exchange = bytes(m.exchange);
      x.type = amqp_cstring_bytes("fanout");
      x.durable = 1;
      x.arguments = amqp_empty_table;
      return send(m.channel, AMQP_EXCHANGE_DECLARE_METHOD, &x);
    }
    case queue_method::declare_queue: {
      amqp_queue_declare_t q{};
      q.queue = bytes(m.queue);
      q.durable = user_queue_durable() ? 1 : 0;
      q.arguments = user_queue_args();
      return send(m.channel, AMQP_QUEUE_DECLARE_METHOD, &q);
    }
    case queue_method::bind:
      return send_binding<amqp_queue_bind_t>(m, AMQP_QUEUE_BIND_METHOD);
    case queue_method::unbind:
      return send_binding<amqp_queue_unbind_t>(m, AMQP_QUEUE_UNBIND_METHOD);
    case queue_method::delete_queue: {
      amqp_queue_delete_t d{};
      d.queue = bytes(m.queue);
      return send(m.channel, AMQP_QUEUE_DELETE_METHOD, &d);
    }
    }
  }

  /// queue.bind and queue.unbind have the same fields (bind's nowait aside).
  template <class Method>
  void send_binding(const queue_method& m, amqp_method_number_t id) {
    Method b{};
    b.queue = bytes(m.queue);
    b.exchange = bytes(m.exchange);
    b.routing_key = amqp_empty_bytes;
    b.arguments = amqp_empty_table;
    send(m.channel, id, &b);
  }

  void send(amqp_channel_t ch, amqp_method_number_t id, void* method) {
    if (auto rc = amqp_send_method(conn_, ch, id, method);
        rc != AMQP_STATUS_OK) {
      broken_ = true;
      throw connection_lost(std::string{"sending a queue operation: "} +
                            amqp_error_string2(rc));
    }
  }

  /// The arguments of every user queue: it expires when unused, and is of
  /// the configured type (a quorum queue survives the loss of a minority of
  /// cluster nodes without mirroring).
  amqp_table_t user_queue_args() {
    auto& expires = queue_args_[0];
    expires.key = amqp_cstring_bytes("x-expires");
    expires.value.kind = AMQP_FIELD_KIND_I64;
    expires.value.value.i64 =
        std::chrono::duration_cast<std::chrono::milliseconds>(
            s_.opts_.queue_expiry)
            .count();
    if (s_.opts_.user_queue_type == "classic")
      return amqp_table_t{1, queue_args_};
    auto& type = queue_args_[1];
    type.key = amqp_cstring_bytes("x-queue-type");
    type.value.kind = AMQP_FIELD_KIND_UTF8;
    type.value.value.bytes = bytes(s_.opts_.user_queue_type);
    return amqp_table_t{2, queue_args_};
  }

  void run(publish_batch& batch) {
    if (blocked_ || !backlog_.empty()) {
      backlog_.push_back(std::move(batch));
      return;
    }
    publish(batch);
  }

  void flush_backlog() {
    while (!blocked_ && !backlog_.empty()) {
      publish(backlog_.front());
      backlog_.pop_front();
    }
  }

  void publish(publish_batch& batch) {
    for (auto& msg : batch.messages)
      send_publish(msg.exchange, msg.routing_key, msg.body);
    s_.metrics_->published.Increment(
        static_cast<double>(batch.messages.size()));
    std::vector<confirm_tracker::message> sent;
    sent.reserve(batch.messages.size());
    for (auto& msg : batch.messages)
      sent.push_back({std::move(msg.exchange), std::move(msg.routing_key),
                      std::move(msg.body)});
    // A tag of an earlier connection is void: the broker redelivers it.
    auto tag = batch.generation == generation_ ? batch.ack_tag : 0;
    auto ch = batch.ack_source == delivery_source::login ? login_channel
                                                         : chat_channel;
    if (batch.confirm_request != 0) { // reported on "channel" 0 (settle)
      tag = batch.confirm_request;
      ch = confirm_report;
    }
    confirms_.add(std::move(sent), tag, ch, clock_type::now());
    s_.metrics_->in_flight.Set(static_cast<double>(confirms_.in_flight()));
    settle();
  }

  void send_publish(const std::string& exchange, const std::string& key,
                    const std::string& body) {
    declare_for_publish(exchange);
    {
      amqp_basic_properties_t props{};
      props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
                     AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_USER_ID_FLAG |
                     AMQP_BASIC_APP_ID_FLAG;
      props.content_type = amqp_cstring_bytes("application/json");
      props.delivery_mode = delivery_mode(exchange);
      // The broker checks user_id against our login: clients can trust it.
      props.user_id = bytes(s_.opts_.amqp_user);
      props.app_id = amqp_cstring_bytes("chat-relay");
      auto rc = amqp_basic_publish(conn_, publish_ch_, bytes(exchange),
                                   bytes(key), 0, 0, &props, bytes(body));
      if (rc != AMQP_STATUS_OK) {
        broken_ = true;
        throw connection_lost(std::string{"publish failed: "} +
                              amqp_error_string2(rc));
      }
    }
  }

  /// With transient deliveries a classic user queue is not durable either
  /// (its declaration and bindings then cost the broker no disk write); a
  /// quorum queue is always durable.
  bool user_queue_durable() const {
    return !s_.transient_ || s_.opts_.user_queue_type != "classic";
  }

  /// 2 (persistent) or 1 (transient) for what reaches users
  /// (relay.deliveries); the relays' shared events go to exclusive queues of
  /// live relays and keep the mode they always had.
  uint8_t delivery_mode(const std::string& exchange) const {
    return s_.transient_ && exchange != s_.opts_.events_exchange ? 1 : 2;
  }

  // -- publisher confirms -----------------------------------------------------

  /// Acks (or requeues) the deliveries whose publishes are all confirmed.
  void settle() {
    for (auto& st : confirms_.take_settled()) {
      if (st.channel == confirm_report) {
        s_.answer(st.tag, !st.requeue);
        continue;
      }
      if (st.requeue) {
        CHATRELAY_LOG(warning, component,
                      "broker refused a publish; "
                      "requeueing its delivery");
        amqp_basic_nack(conn_, st.channel, st.tag, 0, 1);
      } else {
        amqp_basic_ack(conn_, st.channel, st.tag, 0);
      }
    }
    if (s_.metrics_->stalled.Value() > 0 && !confirms_.stalled()) {
      CHATRELAY_LOG(info, component,
                    "the publishes sent again are confirmed; no longer "
                    "stalled");
      s_.metrics_->stalled.Set(0);
    }
  }

  void confirm(amqp_channel_t ch, uint64_t seq, bool multiple, bool nack) {
    if (ch != publish_ch_) return; // a channel given up on (see recover)
    confirms_.confirm(seq, multiple, nack, clock_type::now());
    s_.metrics_->in_flight.Set(static_cast<double>(confirms_.in_flight()));
    settle();
  }

  /// A confirm that never comes (a broker node crash can leave one behind)
  /// must not hold the relay: past the deadline, give up the publish channel
  /// and send the unconfirmed again on a new one, which keeps the connection
  /// and so the exclusive consumers; if those time out too, reconnect.
  void check_confirm_deadline() {
    auto now = clock_type::now();
    // While the broker blocks publishing, confirms wait for it, not for a
    // fault; the clock starts again once it unblocks.
    if (blocked_ || now < deadline_grace_ || !confirms_.overdue(now)) return;
    s_.metrics_->confirm_timeouts.Increment();
    // Said before anything that may block on the broker (the channel.open
    // below waits for its answer): /readyz tells the truth meanwhile.
    s_.metrics_->stalled.Set(1);
    if (confirms_.stalled())
      throw connection_lost(
          "publishes sent again are still unconfirmed after " +
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                             s_.opts_.confirm_timeout)
                             .count()) +
          " ms");
    recover();
  }

  void recover() {
    auto old = publish_ch_;
    // channel.close has no nowait: do not wait for a broker that may be the
    // very thing that hangs; its close-ok is ignored when it comes.
    amqp_channel_close_t close{};
    close.reply_code = AMQP_REPLY_SUCCESS;
    close.reply_text = amqp_cstring_bytes("confirm timeout");
    if (amqp_send_method(conn_, old, AMQP_CHANNEL_CLOSE_METHOD, &close) !=
        AMQP_STATUS_OK) {
      broken_ = true;
      throw connection_lost("closing the publish channel failed");
    }
    publish_ch_ = publish_ch_ < first_spare_channel || // the first reopen
                          publish_ch_ >= last_spare_channel
                      ? first_spare_channel
                      : static_cast<amqp_channel_t>(publish_ch_ + 1);
    publish_exchanges_.clear();
    open_publish_channel();
    // The clock of the copies starts now: the open may have waited long.
    auto again = confirms_.restart(clock_type::now());
    CHATRELAY_LOG(warning, component,
                  again.size()
                      << " publishes unconfirmed after "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(
                             s_.opts_.confirm_timeout)
                             .count()
                      << " ms: sending them again on channel " << publish_ch_
                      << " (was " << old << "); stalled until confirmed");
    for (auto& msg : again)
      send_publish(msg.exchange, msg.routing_key, msg.body);
    s_.metrics_->republished.Increment(static_cast<double>(again.size()));
    s_.metrics_->stalled.Set(confirms_.stalled() ? 1 : 0);
  }

  // -- incoming frames --------------------------------------------------------

  void read_frames() {
    for (;;) {
      amqp_frame_t frame;
      timeval zero{0, 0};
      auto rc = amqp_simple_wait_frame_noblock(conn_, &frame, &zero);
      if (rc == AMQP_STATUS_TIMEOUT) return;
      if (rc != AMQP_STATUS_OK) {
        broken_ = true;
        throw connection_lost(std::string{"connection lost: "} +
                              amqp_error_string2(rc));
      }
      if (frame.frame_type == AMQP_FRAME_METHOD) handle_method(frame);
    }
  }

  void handle_method(const amqp_frame_t& frame) {
    if (pipeline_.owns(frame.channel)) return handle_queue_reply(frame);
    auto& m = frame.payload.method;
    switch (m.id) {
    case AMQP_BASIC_DELIVER_METHOD:
      handle_delivery(frame.channel,
                      *static_cast<amqp_basic_deliver_t*>(m.decoded));
      break;
    case AMQP_BASIC_ACK_METHOD: {
      auto* ack = static_cast<amqp_basic_ack_t*>(m.decoded);
      confirm(frame.channel, ack->delivery_tag, ack->multiple, false);
      break;
    }
    case AMQP_BASIC_NACK_METHOD: {
      auto* nack = static_cast<amqp_basic_nack_t*>(m.decoded);
      confirm(frame.channel, nack->delivery_tag, nack->multiple, true);
      break;
    }
    case AMQP_BASIC_RETURN_METHOD: {
      amqp_message_t msg;
      auto r = amqp_read_message(conn_, frame.channel, &msg, 0);
      if (r.reply_type == AMQP_RESPONSE_NORMAL) amqp_destroy_message(&msg);
      break;
    }
    case AMQP_BASIC_CANCEL_METHOD:
      // The broker dropped a consumer (queue deleted, node down...): start
      // over on a fresh connection rather than guess what still holds.
      throw connection_lost("the broker cancelled a consumer");
    case AMQP_CONNECTION_BLOCKED_METHOD:
      CHATRELAY_LOG(warning, component,
                    "broker blocked publishing (resource alarm)");
      blocked_ = true;
      break;
    case AMQP_CONNECTION_UNBLOCKED_METHOD:
      CHATRELAY_LOG(info, component, "broker unblocked publishing");
      blocked_ = false;
      deadline_grace_ = clock_type::now() + s_.opts_.confirm_timeout;
      break;
    case AMQP_CHANNEL_CLOSE_METHOD: {
      auto* close = static_cast<amqp_channel_close_t*>(m.decoded);
      amqp_channel_close_ok_t ok{};
      amqp_send_method(conn_, frame.channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
      if (frame.channel != publish_ch_ &&
          (frame.channel == first_publish_channel ||
           frame.channel >= first_spare_channel))
        break; // a publish channel given up on (see recover)
      throw connection_lost("channel " + std::to_string(frame.channel) +
                            " closed: " + std::to_string(close->reply_code) +
                            " " + to_string(close->reply_text));
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
      auto* close = static_cast<amqp_connection_close_t*>(m.decoded);
      amqp_connection_close_ok_t ok{};
      amqp_send_method(conn_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
      broken_ = true;
      throw connection_lost(
          "broker closed the connection: " + std::to_string(close->reply_code) +
          " " + to_string(close->reply_text));
    }
    default:
      break;
    }
  }

  /// An answer to a queue operation (see queue_pipeline).
  void handle_queue_reply(const amqp_frame_t& frame) {
    auto& m = frame.payload.method;
    switch (m.id) {
    case AMQP_CHANNEL_OPEN_OK_METHOD:
    case AMQP_EXCHANGE_DECLARE_OK_METHOD:
    case AMQP_QUEUE_DECLARE_OK_METHOD:
    case AMQP_QUEUE_BIND_OK_METHOD:
    case AMQP_QUEUE_UNBIND_OK_METHOD:
    case AMQP_QUEUE_DELETE_OK_METHOD:
      pipeline_.ok(frame.channel);
      break;
    case AMQP_CHANNEL_CLOSE_METHOD: {
      auto* close = static_cast<amqp_channel_close_t*>(m.decoded);
      amqp_channel_close_ok_t ok{};
      if (amqp_send_method(conn_, frame.channel, AMQP_CHANNEL_CLOSE_OK_METHOD,
                           &ok) != AMQP_STATUS_OK) {
        broken_ = true;
        throw connection_lost("answering a channel.close failed");
      }
      CHATRELAY_LOG(warning, component,
                    "queue operation failed: " << close->reply_code << " "
                                               << to_string(close->reply_text));
      pipeline_.failed(frame.channel);
      break;
    }
    default:
      break;
    }
  }

  void handle_delivery(amqp_channel_t ch, const amqp_basic_deliver_t& d) {
    delivery out;
    out.source = ch == events_channel  ? delivery_source::events
                 : ch == login_channel ? delivery_source::login
                                       : delivery_source::chat;
    out.tag = ch == events_channel ? 0 : d.delivery_tag;
    out.generation = generation_;
    out.redelivered = d.redelivered != 0;
    amqp_message_t msg;
    auto r = amqp_read_message(conn_, ch, &msg, 0);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
      broken_ = true;
      throw connection_lost("reading a message: " + describe(r));
    }
    out.body = to_string(msg.body);
    amqp_destroy_message(&msg);
    if (out.redelivered) s_.metrics_->redeliveries.Increment();
    s_.callbacks_.on_delivery(std::move(out));
    if (ch == events_channel)
      amqp_basic_ack(conn_, events_channel, d.delivery_tag, 0);
  }

  amqp_client& s_;
  uint64_t generation_;
  amqp_connection_state_t conn_ = nullptr;
  int fd_ = -1;
  bool broken_ = false;
  bool blocked_ = false;
  bool chat_channel_open_ = false;
  bool login_channel_open_ = false;
  std::string last_error_;
  amqp_table_entry_t queue_args_[2]{};
  /// Exchanges declared on the current publish channel.
  std::unordered_set<std::string> publish_exchanges_;
  std::deque<publish_batch> backlog_;
  amqp_channel_t publish_ch_ = first_publish_channel;
  leader_lock lock_;
  queue_pipeline pipeline_;
  confirm_tracker confirms_;
  clock_type::time_point deadline_grace_{};
};

amqp_client::amqp_client(relay_options opts,
                         std::shared_ptr<relay_metrics> metrics,
                         client_callbacks callbacks, size_t max_commands)
    : opts_(std::move(opts)), metrics_(std::move(metrics)),
      callbacks_(std::move(callbacks)), max_commands_(max_commands),
      transient_(opts_.deliveries == "transient") {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::runtime_error("eventfd failed");
}

amqp_client::~amqp_client() {
  stop();
  ::close(wake_fd_);
}

void amqp_client::start() {
  thread_ = std::thread{[this] { run(); }};
}

void amqp_client::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  room_.notify_all();
  wake();
  if (!thread_.joinable()) return;
  // Give the thread a moment to close the connection politely; then break
  // whatever blocking call it is in (a broker that stopped answering).
  for (int i = 0; i < 50 && !finished_; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!finished_) {
    std::lock_guard<std::mutex> guard{fd_mtx_};
    if (live_fd_ >= 0) ::shutdown(live_fd_, SHUT_RDWR);
  }
  thread_.join();
}

void amqp_client::set_live_fd(int fd) {
  std::lock_guard<std::mutex> guard{fd_mtx_};
  live_fd_ = fd;
}

void amqp_client::submit(command cmd) {
  bool was_empty;
  {
    std::unique_lock<std::mutex> guard{mtx_};
    // Back-pressure, not loss: a full queue makes the caller (the broker
    // actor, on a thread of its own) wait for the AMQP thread.
    room_.wait(guard, [this] {
      return commands_.size() < max_commands_ || stopping_ || finished_;
    });
    was_empty = commands_.empty();
    commands_.push_back(std::move(cmd));
  }
  // The thread drains everything it finds, so one wake-up per batch suffices.
  if (was_empty) wake();
}

size_t amqp_client::queued() {
  std::lock_guard<std::mutex> guard{mtx_};
  return commands_.size();
}

void amqp_client::answer(uint64_t request, bool ok) {
  if (unanswered_.erase(request) > 0) callbacks_.on_done(request, ok);
}

void amqp_client::answer_all(bool ok) {
  for (auto request : std::exchange(unanswered_, {}))
    callbacks_.on_done(request, ok);
}

void amqp_client::wake() {
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof(one));
}

bool amqp_client::wait_wakeup(std::chrono::milliseconds timeout) {
  pollfd fd{wake_fd_, POLLIN, 0};
  if (::poll(&fd, 1, static_cast<int>(timeout.count())) > 0) {
    uint64_t dummy;
    [[maybe_unused]] auto n = ::read(wake_fd_, &dummy, sizeof(dummy));
    return true;
  }
  return false;
}

std::deque<command> amqp_client::take_commands() {
  std::deque<command> taken;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    taken = std::exchange(commands_, {});
  }
  room_.notify_all();
  // Every declaration and every publish that waits for its confirm is
  // answered, also when the connection fails before the broker answered it
  // (see answer_all): their requesters wait without a timeout.
  for (auto& cmd : taken) {
    if (auto* d = std::get_if<declare_cmd>(&cmd))
      unanswered_.insert(d->request);
    else if (auto* b = std::get_if<publish_batch>(&cmd);
             b && b->confirm_request != 0)
      unanswered_.insert(b->confirm_request);
  }
  return taken;
}

void amqp_client::run() {
  struct mark_finished {
    amqp_client& s;
    ~mark_finished() {
      {
        std::lock_guard<std::mutex> guard{s.mtx_};
        s.finished_ = true;
      }
      s.room_.notify_all();
    }
  } finished{*this};
  auto addresses = broker_addresses(opts_);
  auto backoff = std::chrono::duration_cast<std::chrono::milliseconds>(
      defaults::amqp::min_backoff);
  uint64_t generation = 0;
  size_t next_address = 0;
  while (!stopping_) {
    try {
      serve_once(addresses[next_address % addresses.size()], generation,
                 backoff);
    } catch (const connection_lost& e) {
      auto& addr = addresses[next_address % addresses.size()];
      CHATRELAY_LOG(warning, component,
                    addr.host << ":" << addr.port << ": " << e.what()
                              << "; retrying in " << backoff.count() << " ms");
      ++next_address;
    } catch (const std::exception& e) {
      // A bug or an exhausted resource must not terminate the process from
      // this thread: drop the connection and start over, loudly.
      CHATRELAY_LOG(error, component,
                    "unexpected error, reconnecting: " << e.what());
      ++next_address;
    }
    try {
      connection_gone(generation);
    } catch (const std::exception& e) {
      CHATRELAY_LOG(error, component, "unexpected error: " << e.what());
    }
    if (stopping_) break;
    wait_wakeup(backoff);
    backoff = std::min(backoff * 2,
                       std::chrono::duration_cast<std::chrono::milliseconds>(
                           defaults::amqp::max_backoff));
  }
}

void amqp_client::serve_once(const amqp_address& addr, uint64_t& generation,
                             std::chrono::milliseconds& backoff) {
  {
    {
      connection conn{*this, addr, generation + 1};
      ++generation;
      if (generation > 1) metrics_->reconnects.Increment();
      metrics_->connected.Set(1);
      backoff = std::chrono::duration_cast<std::chrono::milliseconds>(
          defaults::amqp::min_backoff);
      CHATRELAY_LOG(info, component,
                    "connected to " << addr.host << ":" << addr.port
                                    << " as standby");
      callbacks_.on_role(relay_role::standby, generation);
      conn.serve();
    }
  }
}

void amqp_client::connection_gone(uint64_t generation) {
  metrics_->connected.Set(0);
  metrics_->stalled.Set(0);
  // Commands for the lost connection: acks are void (the broker redelivers),
  // queue declarations are redone by the registry when it becomes active.
  // Every declaration and confirm request taken so far gets its answer, even
  // one whose group the failure interrupted: its requester may wait without
  // a timeout.
  take_commands();
  answer_all(false);
  callbacks_.on_role(relay_role::disconnected, generation);
}

} // namespace chatrelay::broker
