// Reads one HTTP/1.1 request at a time from bytes as they arrive: the head
// (request line and headers, 64 KiB at most), then a body framed by
// Content-Length or chunked, up to a limit. It never blocks and never holds
// more than one request's worth of bytes.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "http.hpp"

namespace relay {

constexpr size_t kMaxHeadBytes = 64 * 1024;  // request line, headers and trailers

class RequestReader {
 public:
  enum class Status { incomplete, complete, failed };

  explicit RequestReader(size_t max_body) : max_body_(max_body) {}

  // Consumes from the front of `in` what belongs to the current request;
  // bytes past its end (the next request's) stay in `in`.
  Status feed(std::string& in);

  // The request read so far (complete once feed() said so).
  Request& request() { return req_; }
  // Whether the connection may carry another request after this one.
  bool keep_alive() const { return keep_alive_; }
  // True once, when the client waits for "100 Continue" before its body.
  bool take_continue();
  // After Status::failed: the answer (400, 413, 431, 501, 505), with a word
  // for why (too_large, malformed_request) and a sentence.
  Response refusal() const;

  // The answer when the request did not arrive whole within `limit`; `in`:
  // what did, for the request line (in the log).
  Response timed_out(const std::string& in, std::chrono::seconds limit);

  // Ready for the next request on the same connection.
  void reset();

 private:
  enum class Stage { head, body, chunk_size, chunk_data, chunk_end, trailers, done };

  Status fail(int status, std::string error);
  Status read_head(std::string& in);
  Status head_too_large(const std::string& in);
  void read_request_line(const std::string& in);
  Status parse_request_line(const std::string& line);
  Status parse_head(const std::string& head);
  Status read_chunked(std::string& in);

  const size_t max_body_;
  Stage stage_ = Stage::head;
  Request req_;
  bool http10_ = false;
  bool keep_alive_ = true;
  bool expect_continue_ = false;
  size_t content_length_ = 0;
  size_t chunk_left_ = 0;
  size_t head_bytes_ = 0;  // of the head and trailers, against kMaxHeadBytes
  size_t scanned_ = 0;     // bytes of `in` searched for the head's end
  int error_status_ = 0;
  std::string error_;
};

}  // namespace relay
