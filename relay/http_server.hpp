// The HTTP/1.1 front: one thread and epoll for every connection. It reads
// each request without blocking, within a deadline for the whole request, and
// hands only complete requests to the handler; the handler answers whenever
// it has the outcome, from any thread, and the loop writes the response. A
// slow or idle connection costs a little memory, never a thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http.hpp"

namespace relay {

// A connection's request, from its first byte to its last, must arrive
// within kRequestTimeout; a connection waiting for a request (new or kept
// alive) is closed after kIdleTimeout; a response must be taken by the
// client within kWriteTimeout.
constexpr std::chrono::seconds kRequestTimeout(10), kIdleTimeout(60), kWriteTimeout(10);
// Open connections at the most (fewer when the process may open fewer files);
// past it, idle ones are closed to make room, and new ones wait in the
// listen backlog.
constexpr size_t kMaxConnections = 4096;

class HttpServer {
 public:
  using Clock = std::chrono::steady_clock;
  // Told of every response just before it is sent, with how long since the
  // request's first byte (it may add to the response's notes); runs on the
  // server's thread.
  using Observer = std::function<void(const Request&, Response&, Clock::duration)>;

  // `max_body`: the largest body read (413 past it).
  HttpServer(Handler handler, Observer observer, size_t max_body);
  ~HttpServer();

  // Listens; the port bound (port 0: any free one), or -1.
  int bind(const std::string& host, int port);
  // Serves until stop(); then answers the requests in flight (and any being
  // received, within their deadline) and returns.
  void run();
  // Closes the listener at once and lets run() finish; callable from any thread.
  void stop();

  // Requests handed to the handler and not answered yet; open connections.
  // Callable from any thread.
  size_t in_flight() const { return in_flight_; }
  size_t connections() const { return open_; }

 private:
  struct Connection;
  struct Answer {
    int fd;
    uint64_t id;
    Response response;
  };

  void accept_all();
  void on_event(Connection& c, uint32_t events);
  void read_requests(Connection& c);
  void start_request(Connection& c);
  void respond(Connection& c, Response res, bool request_read);
  void write_out(Connection& c);
  void after_response(Connection& c);
  void linger(Connection& c);
  void close_connection(Connection& c);
  void post(int fd, uint64_t id, Response res);
  void take_answers();
  void check_deadlines();
  bool make_room();
  void watch_listener(bool on);

  Handler handler_;
  Observer observer_;
  const size_t max_body_;
  size_t max_connections_ = kMaxConnections;
  int epoll_ = -1, wake_ = -1;
  std::atomic<int> listener_{-1};
  bool listening_ = false;
  std::atomic<bool> stop_requested_{false}, stopping_{false};
  std::unordered_map<int, std::unique_ptr<Connection>> connections_;
  uint64_t next_id_ = 1;
  std::atomic<size_t> in_flight_{0}, open_{0};

  std::mutex answers_mu_;
  std::vector<Answer> answers_;  // from the handler, for the loop to send
  bool wake_pending_ = false;
};

}  // namespace relay
