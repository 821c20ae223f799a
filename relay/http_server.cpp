#include "http_server.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "request_reader.hpp"

namespace relay {

namespace {

// How long a connection closed after an error answer may still send what it
// had begun (read and dropped), so that the answer is not lost to a reset.
constexpr std::chrono::seconds kLingerTimeout(2);
// How often deadlines are checked: they are met to within this.
constexpr std::chrono::milliseconds kTick(100);
constexpr size_t kReadSize = 64 * 1024;

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
  }
  return "Unknown";
}

}  // namespace

struct HttpServer::Connection {
  enum class State { idle, reading, handling, writing, lingering };

  Connection(int fd, uint64_t id, size_t max_body) : fd(fd), id(id), reader(max_body) {}

  const int fd;
  const uint64_t id;  // tells a reused descriptor's connections apart
  State state = State::idle;
  RequestReader reader;
  std::string in;  // received, not yet taken into a request
  std::string out;
  size_t sent = 0;
  bool readable = false, writable = true;  // as epoll last said (edge-triggered)
  bool close_after = false;
  Clock::time_point started, deadline;
};

HttpServer::HttpServer(Handler handler, Observer observer, size_t max_body)
    : handler_(std::move(handler)), observer_(std::move(observer)), max_body_(max_body) {
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_;
  epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev);
}

HttpServer::~HttpServer() {
  for (auto& [fd, c] : connections_) ::close(fd);
  if (listener_ >= 0) ::close(listener_);
  ::close(wake_);
  ::close(epoll_);
}

int HttpServer::bind(const std::string& host, int port) {
  addrinfo hints{}, *found = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) ::close(fd), fd = -1;
  }
  freeaddrinfo(found);
  if (fd < 0) return -1;
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  listener_ = fd;
  watch_listener(true);

  // Every connection is a descriptor: as many as the process may open, less
  // a margin for the database's and the log's.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
    if (files.rlim_cur < files.rlim_max) {
      files.rlim_cur = std::min<rlim_t>(files.rlim_max, kMaxConnections * 2);
      setrlimit(RLIMIT_NOFILE, &files);
      getrlimit(RLIMIT_NOFILE, &files);
    }
    max_connections_ =
        std::min<size_t>(kMaxConnections, files.rlim_cur > 256 ? files.rlim_cur - 128 : files.rlim_cur / 2);
  }
  return ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                          : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

void HttpServer::stop() {
  if (stop_requested_.exchange(true)) return;
  // Refuses new connections now; the loop closes the listener once it sees
  // `stopping_`.
  shutdown(listener_, SHUT_RDWR);
  stopping_ = true;
  uint64_t one = 1;
  (void)!write(wake_, &one, sizeof one);
}

void HttpServer::watch_listener(bool on) {
  if (on == listening_ || (on && stopping_)) return;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener_;
  epoll_ctl(epoll_, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, listener_, &ev);
  listening_ = on;
}

void HttpServer::run() {
  epoll_event events[256];
  auto last_tick = Clock::now();
  bool wound_down = false;
  while (!(stopping_ && connections_.empty())) {
    if (stopping_ && !wound_down) {
      // No new connections, and none kept waiting for a next request (one
      // whose next request has begun to arrive is answered).
      watch_listener(false);
      ::close(listener_);
      listener_ = -1;
      std::vector<int> idle;
      for (auto& [fd, c] : connections_)
        if (c->state == Connection::State::idle && c->in.empty() && !c->readable) idle.push_back(fd);
      for (int fd : idle) close_connection(*connections_[fd]);
      wound_down = true;
      continue;
    }
    int n = epoll_wait(epoll_, events, 256, static_cast<int>(kTick.count()));
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == wake_) {
        uint64_t count;
        (void)!read(wake_, &count, sizeof count);
        take_answers();
      } else if (fd == listener_) {
        accept_all();
      } else if (auto it = connections_.find(fd); it != connections_.end()) {
        on_event(*it->second, events[i].events);
      }
    }
    if (Clock::now() - last_tick >= kTick) {
      check_deadlines();
      last_tick = Clock::now();
    }
  }
}

void HttpServer::accept_all() {
  for (;;) {
    if (connections_.size() >= max_connections_ && !make_room()) return watch_listener(false);
    int fd = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // none left (EAGAIN), or an error on one that is gone
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    auto c = std::make_unique<Connection>(fd, next_id_++, max_body_);
    c->deadline = Clock::now() + kIdleTimeout;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.fd = fd;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
    connections_[fd] = std::move(c);
    open_ = connections_.size();
  }
}

// The connection waiting longest for a next request is closed for a new one.
bool HttpServer::make_room() {
  Connection* oldest = nullptr;
  for (auto& [fd, c] : connections_)
    if (c->state == Connection::State::idle && c->in.empty() && (!oldest || c->deadline < oldest->deadline))
      oldest = c.get();
  if (oldest) close_connection(*oldest);
  return oldest != nullptr;
}

void HttpServer::on_event(Connection& c, uint32_t events) {
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c.readable = true;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) c.writable = true;
  switch (c.state) {
    case Connection::State::idle:
    case Connection::State::reading: return read_requests(c);
    case Connection::State::writing: return c.writable ? write_out(c) : void();
    case Connection::State::lingering: return linger(c);
    case Connection::State::handling: return;  // read again once answered
  }
}

void HttpServer::start_request(Connection& c) {
  c.state = Connection::State::reading;
  c.started = Clock::now();
  c.deadline = c.started + kRequestTimeout;
}

// Reads what has arrived into the current request; hands it to the handler
// once complete, or answers an error.
void HttpServer::read_requests(Connection& c) {
  char buf[kReadSize];
  for (;;) {
    if (!c.in.empty()) {
      if (c.state == Connection::State::idle) start_request(c);
      RequestReader::Status status = c.reader.feed(c.in);
      if (status == RequestReader::Status::failed) return respond(c, c.reader.refusal(), false);
      if (status == RequestReader::Status::complete) {
        c.state = Connection::State::handling;
        in_flight_++;
        handler_(c.reader.request(), [this, fd = c.fd, id = c.id](Response res) { post(fd, id, std::move(res)); });
        return;
      }
      if (c.reader.take_continue()) {
        static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
        (void)!send(c.fd, kContinue, sizeof kContinue - 1, MSG_NOSIGNAL);
      }
    }
    if (!c.readable) return;
    ssize_t n = recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < sizeof buf) c.readable = false;  // drained: epoll tells of more
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c.readable = false;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return close_connection(c);  // closed by the client, in between requests or within one
    }
  }
}

void HttpServer::post(int fd, uint64_t id, Response res) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(answers_mu_);
    answers_.push_back({fd, id, std::move(res)});
    wake = !wake_pending_;
    wake_pending_ = true;
  }
  uint64_t one = 1;
  if (wake) (void)!write(wake_, &one, sizeof one);
}

void HttpServer::take_answers() {
  std::vector<Answer> answers;
  {
    std::lock_guard<std::mutex> lock(answers_mu_);
    answers.swap(answers_);
    wake_pending_ = false;
  }
  for (Answer& a : answers) {
    in_flight_--;
    auto it = connections_.find(a.fd);
    if (it == connections_.end() || it->second->id != a.id) continue;
    respond(*it->second, std::move(a.response), true);
  }
}

// Sends `res`; `request_read`: false when the request was not read to its end
// (an error answered early), so the connection cannot carry another.
void HttpServer::respond(Connection& c, Response res, bool request_read) {
  const Request& req = c.reader.request();
  c.close_after = !request_read || !c.reader.keep_alive() || stopping_;
  std::string& out = c.out;
  out = "HTTP/1.1 " + std::to_string(res.status) + " " + reason_phrase(res.status) + "\r\n";
  out += "Content-Type: " + res.content_type + "\r\nContent-Length: " + std::to_string(res.body.size()) + "\r\n";
  for (const auto& [name, value] : res.headers) out += name + ": " + value + "\r\n";
  out += c.close_after ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n";
  if (req.method != "HEAD") out += res.body;
  c.sent = 0;
  observer_(req, res, Clock::now() - c.started);
  c.state = Connection::State::writing;
  c.deadline = Clock::now() + kWriteTimeout;
  write_out(c);
}

void HttpServer::write_out(Connection& c) {
  while (c.sent < c.out.size()) {
    ssize_t n = send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
    if (n > 0) {
      c.sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c.writable = false;
      return;
    } else if (!(n < 0 && errno == EINTR)) {
      return close_connection(c);
    }
  }
  c.out.clear();
  after_response(c);
}

void HttpServer::after_response(Connection& c) {
  if (c.close_after) {
    // The client may still be sending: read and drop it for a moment, so
    // that closing with unread bytes does not reset the answer away.
    shutdown(c.fd, SHUT_WR);
    c.state = Connection::State::lingering;
    c.deadline = Clock::now() + kLingerTimeout;
    c.readable = true;
    return linger(c);
  }
  c.reader.reset();
  c.state = Connection::State::idle;
  c.deadline = Clock::now() + kIdleTimeout;
  if (!c.in.empty() || c.readable) read_requests(c);  // a pipelined request
}

void HttpServer::linger(Connection& c) {
  char buf[kReadSize];
  while (c.readable) {
    ssize_t n = recv(c.fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c.readable = false;
    } else if (n <= 0 && !(n < 0 && errno == EINTR)) {
      return close_connection(c);
    }
  }
}

void HttpServer::close_connection(Connection& c) {
  int fd = c.fd;
  ::close(fd);  // also leaves the epoll set
  connections_.erase(fd);
  open_ = connections_.size();
  if (!stopping_ && connections_.size() < max_connections_) watch_listener(true);
}

void HttpServer::check_deadlines() {
  auto now = Clock::now();
  std::vector<int> late;
  for (auto& [fd, c] : connections_)
    if (c->state != Connection::State::handling && now >= c->deadline) late.push_back(fd);
  for (int fd : late) {
    auto it = connections_.find(fd);
    if (it == connections_.end()) continue;
    Connection& c = *it->second;
    if (c.state == Connection::State::reading)
      respond(c, c.reader.timed_out(c.in, kRequestTimeout), false);
    else
      close_connection(c);  // idle, a response not taken, or done lingering
  }
}

}  // namespace relay
