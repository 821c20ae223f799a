#include "http_server.hpp"

#include "httplib.hpp"

#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "log.hpp"

namespace relay {

namespace {

using Clock = std::chrono::steady_clock;

// httplib 0.11's ThreadPool queues accepted connections without limit; this
// one blocks the accept loop instead, so overload waits in the listen backlog.
class BoundedQueue : public httplib::TaskQueue {
 public:
  BoundedQueue(size_t threads, size_t max_queued) : max_queued_(max_queued) {
    for (size_t i = 0; i < threads; i++) workers_.emplace_back([this] { work(); });
  }

  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lock(mu_);
    space_.wait(lock, [&] { return jobs_.size() < max_queued_; });
    jobs_.push_back(std::move(fn));
    lock.unlock();
    ready_.notify_one();
  }

  // Runs what is queued (httplib then just closes those sockets) and joins.
  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : workers_) t.join();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mu_);
        ready_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      space_.notify_one();
      fn();
    }
  }

  const size_t max_queued_;
  std::vector<std::thread> workers_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::mutex mu_;
  std::condition_variable ready_, space_;
};

// When a request started, and its response once the handler gave it: a
// request is routed, answered and logged on one thread.
struct Exchange {
  Clock::time_point start;
  bool started = false;
  Response response;
};
thread_local Exchange tl_exchange;

void set_response(httplib::Response& res, const Response& r) {
  res.status = r.status;
  for (const auto& [name, value] : r.headers) res.set_header(name.c_str(), value);
  res.set_content(r.body, "application/json");
}

Request request_of(const httplib::Request& req, std::string body) {
  Request r;
  r.method = req.method;
  r.path = req.path;
  for (const auto& [name, value] : req.headers) {
    // Pseudo-headers httplib adds for the peer and local address: not sent.
    if (name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" || name == "LOCAL_PORT") continue;
    r.headers.emplace_back(name, value);
  }
  r.body = std::move(body);
  return r;
}

}  // namespace

HttpServer::HttpServer(Handler handler, size_t threads, size_t max_body)
    : handler_(std::move(handler)), svr_(std::make_unique<httplib::Server>()) {
  svr_->new_task_queue = [threads] { return new BoundedQueue(threads, 4 * threads); };
  svr_->set_payload_max_length(max_body);
  svr_->set_tcp_nodelay(true);  // headers and body are separate writes

  // Every method on every path comes through here. Bodies are always read (up
  // to the limit, the rest discarded) so a keep-alive connection stays in
  // step even when the answer is 404 or 405.
  auto route = [this, max_body](const httplib::Request& req, httplib::Response& res,
                                const httplib::ContentReader* reader) {
    std::string body;
    if (reader) {
      bool too_big = false;
      auto receive = [&](const char* data, size_t n) {
        if (too_big || body.size() + n > max_body)
          too_big = true;
        else
          body.append(data, n);
        return true;
      };
      // httplib fails a multipart body read any other way than part by part.
      bool ok = req.is_multipart_form_data()
                    ? (*reader)([](const httplib::MultipartFormData&) { return true; }, receive)
                    : (*reader)(receive);
      // httplib itself answers 413 for a Content-Length over the limit
      // (set_payload_max_length); chunked bodies are capped above.
      if (too_big || res.status == 413) {
        tl_exchange.response = error_response(413, "body larger than " + std::to_string(max_body) + " bytes");
        return set_response(res, tl_exchange.response);
      }
      if (!ok) {
        tl_exchange.response = error_response(400, "could not read the request body");
        return set_response(res, tl_exchange.response);
      }
    }
    std::promise<Response> answered;
    handler_(request_of(req, std::move(body)), [&answered](Response r) { answered.set_value(std::move(r)); });
    tl_exchange.response = answered.get_future().get();
    set_response(res, tl_exchange.response);
  };
  auto plain = [route](const httplib::Request& req, httplib::Response& res) { route(req, res, nullptr); };
  auto with_body = [route](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    route(req, res, &reader);
  };
  svr_->Get(".*", plain);
  svr_->Options(".*", plain);
  svr_->Post(".*", with_body);
  svr_->Put(".*", with_body);
  svr_->Patch(".*", with_body);
  svr_->Delete(".*", with_body);
  svr_->set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    tl_exchange.start = Clock::now();
    tl_exchange.started = true;
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Errors httplib answers itself (malformed request, unknown method) get a
  // JSON body too.
  svr_->set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    tl_exchange.response = error_response(res.status, "HTTP " + std::to_string(res.status));
    res.set_content(tl_exchange.response.body, "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  svr_->set_logger([](const httplib::Request& req, const httplib::Response& res) {
    Request logged = request_of(req, "");
    tl_exchange.response.status = res.status;
    log_request(logged, tl_exchange.response,
                tl_exchange.started ? Clock::now() - tl_exchange.start : Clock::duration());
    tl_exchange = Exchange{};
  });
  // httplib 0.11 listens with a backlog of 5: in a burst of concurrent
  // deliveries the kernel drops the connections past it, and each waits a
  // second to try again. Its socket-options hook is what sees the listening
  // socket (the last one it is called for is the one bound).
  svr_->set_socket_options([this](int sock) {
    httplib::default_socket_options(sock);
    listener_ = sock;
  });
}

HttpServer::~HttpServer() = default;

int HttpServer::bind(const std::string& host, int port) {
  int bound = port == 0 ? svr_->bind_to_any_port(host) : svr_->bind_to_port(host, port) ? port : -1;
  if (bound < 0 || listen(listener_, SOMAXCONN) != 0) return -1;
  return bound;
}

bool HttpServer::run() { return svr_->listen_after_bind(); }

void HttpServer::stop() {
  // stop() is a no-op until listen has started; the signal may beat it.
  while (!svr_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  svr_->stop();  // closes the listener; listen_after_bind() then joins the workers
}

}  // namespace relay
