// The HTTP front: accepts connections, reads requests within the limits and
// hands each whole request to the handler.
#pragma once

#include <memory>
#include <string>

#include "http.hpp"

namespace httplib {
class Server;
}

namespace relay {

class HttpServer {
 public:
  // `threads`: requests served at once; `max_body`: the largest body read (413 past it).
  HttpServer(Handler handler, size_t threads, size_t max_body);
  ~HttpServer();

  // The port bound (port 0: any free one), or -1.
  int bind(const std::string& host, int port);
  // Serves until stop(); returns once every request in flight has been answered.
  bool run();
  // Closes the listener; callable from any thread.
  void stop();

 private:
  Handler handler_;
  std::unique_ptr<httplib::Server> svr_;
  int listener_ = -1;
};

}  // namespace relay
