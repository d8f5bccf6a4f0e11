// The AMQP connection, owned by one thread (rabbitmq-c connections are
// blocking and not thread-safe). Internal to the broker actor.
#pragma once

#include "chatrelay/messages.hpp"
#include "chatrelay/metrics.hpp"
#include "chatrelay/options.hpp"

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <variant>

namespace chatrelay::broker {

/// What the session reports; called on the session's thread.
struct session_callbacks {
  std::function<void(delivery)> on_delivery;
  std::function<void(relay_role, uint64_t generation)> on_role;
  std::function<void(uint64_t request, bool ok)> on_done;
};

/// Commands the actors hand to the session thread.
struct declare_cmd {
  uint64_t request;
  queue_binding binding;
};
struct unbind_cmd {
  queue_binding binding;
};
struct delete_cmd {
  std::string queue;
};
using command =
    std::variant<publish_batch, declare_cmd, unbind_cmd, delete_cmd>;

/// Owns the connection thread: connects (with backoff, trying every broker
/// address in turn), declares the topology, competes for the exclusive
/// consumers of login/chat, executes commands in order and reports back.
class amqp_session {
public:
  amqp_session(relay_options opts, std::shared_ptr<relay_metrics> metrics,
               session_callbacks callbacks);
  ~amqp_session();

  amqp_session(const amqp_session&) = delete;
  amqp_session& operator=(const amqp_session&) = delete;

  void start();

  /// Stops the thread and closes the connection; idempotent.
  void stop();

  /// Queues a command for the thread (thread-safe).
  void submit(command cmd);

private:
  class connection;

  void run();
  void wake();
  bool wait_wakeup(std::chrono::milliseconds timeout);
  std::deque<command> take_commands();

  relay_options opts_;
  std::shared_ptr<relay_metrics> metrics_;
  session_callbacks callbacks_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> finished_{false};
  /// The live connection's socket, so stop() can break a blocking call.
  std::atomic<int> live_fd_{-1};
  int wake_fd_ = -1;
  std::mutex mtx_;
  std::deque<command> commands_;
};

} // namespace chatrelay::broker
