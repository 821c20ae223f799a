#include "request_reader.hpp"

#include <strings.h>

#include <algorithm>
#include <cstring>

namespace relay {

namespace {

bool is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool is_token(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c == '\0' || !is_tchar(c)) return false;
  return true;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Whether the comma-separated list `value` holds `token` (any case).
bool has_token(const std::string& value, const char* token) {
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    std::string item = trim(value.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (strcasecmp(item.c_str(), token) == 0) return true;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return false;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The path of a request target, percent-decoded, without its query. An
// absolute URI (as proxies send) is cut to its path.
std::string path_of(std::string target) {
  for (const char* scheme : {"http://", "https://"}) {
    if (strncasecmp(target.c_str(), scheme, std::strlen(scheme)) == 0) {
      size_t slash = target.find('/', std::strlen(scheme));
      target = slash == std::string::npos ? "/" : target.substr(slash);
    }
  }
  target = target.substr(0, target.find_first_of("?#"));
  std::string path;
  for (size_t i = 0; i < target.size(); i++) {
    int hi, lo;
    if (target[i] == '%' && i + 2 < target.size() && (hi = hex_value(target[i + 1])) >= 0 &&
        (lo = hex_value(target[i + 2])) >= 0) {
      path += char(hi * 16 + lo);
      i += 2;
    } else {
      path += target[i];
    }
  }
  return path;
}

// The next line of `in` from `pos` without its CRLF (or bare LF); false
// when it has not fully arrived.
bool next_line(const std::string& in, size_t& pos, std::string& line) {
  size_t nl = in.find('\n', pos);
  if (nl == std::string::npos) return false;
  size_t end = nl > pos && in[nl - 1] == '\r' ? nl - 1 : nl;
  line.assign(in, pos, end - pos);
  pos = nl + 1;
  return true;
}

std::string larger_than(const char* what, size_t limit) {
  return std::string(what) + " larger than " + std::to_string(limit) + " bytes";
}

}  // namespace

Response RequestReader::refusal() const {
  return relay::refusal(error_status_, error_status_ == 413 || error_status_ == 431 ? "too_large" : "malformed_request",
                        error_);
}

RequestReader::Status RequestReader::fail(int status, std::string error) {
  error_status_ = status;
  error_ = std::move(error);
  keep_alive_ = false;
  return Status::failed;
}

bool RequestReader::take_continue() {
  bool waiting = expect_continue_ && stage_ != Stage::head && stage_ != Stage::done;
  expect_continue_ = false;
  return waiting;
}

void RequestReader::reset() {
  stage_ = Stage::head;
  req_ = Request{};
  http10_ = false;
  keep_alive_ = true;
  expect_continue_ = false;
  content_length_ = chunk_left_ = head_bytes_ = scanned_ = 0;
  error_status_ = 0;
  error_.clear();
}

RequestReader::Status RequestReader::feed(std::string& in) {
  if (stage_ == Stage::head) {
    Status s = read_head(in);
    if (s != Status::complete) return s;
  }
  if (stage_ == Stage::body) {
    if (in.size() < content_length_) return Status::incomplete;
    req_.body.assign(in, 0, content_length_);
    in.erase(0, content_length_);
    stage_ = Stage::done;
  }
  if (stage_ != Stage::done) return read_chunked(in);
  return Status::complete;
}

RequestReader::Status RequestReader::read_head(std::string& in) {
  // Empty lines before a request line are allowed (RFC 9112, 2.2).
  size_t skip = 0;
  while (skip < in.size() && (in[skip] == '\r' || in[skip] == '\n')) skip++;
  if (skip) in.erase(0, skip), scanned_ = 0;
  size_t end = std::string::npos, from = scanned_ > 3 ? scanned_ - 3 : 0;
  for (size_t i = in.find('\n', from); i != std::string::npos; i = in.find('\n', i + 1)) {
    if (i + 1 < in.size() && in[i + 1] == '\n') {
      end = i + 2;
      break;
    }
    if (i + 2 < in.size() && in[i + 1] == '\r' && in[i + 2] == '\n') {
      end = i + 3;
      break;
    }
  }
  if (end == std::string::npos) {
    scanned_ = in.size();
    if (in.size() > kMaxHeadBytes) return head_too_large(in);
    return Status::incomplete;
  }
  if (end > kMaxHeadBytes) return head_too_large(in);
  head_bytes_ = end;
  // The head is whole: parse_head() says whether it is sound.
  std::string head = in.substr(0, end);
  in.erase(0, end);
  return parse_head(head);
}

// 431, with the request line read if it came whole, for the log.
RequestReader::Status RequestReader::head_too_large(const std::string& in) {
  read_request_line(in);
  return fail(431, larger_than("request headers", kMaxHeadBytes));
}

void RequestReader::read_request_line(const std::string& in) {
  size_t pos = 0;
  std::string line;
  if (stage_ == Stage::head && next_line(in, pos, line)) parse_request_line(line);
}

Response RequestReader::timed_out(const std::string& in, std::chrono::seconds limit) {
  read_request_line(in);
  fail(408, "request not received within " + std::to_string(limit.count()) + " s");
  return relay::refusal(408, "timeout", error_);
}

RequestReader::Status RequestReader::parse_request_line(const std::string& line) {
  size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string::npos || sp1 == sp2) return fail(400, "malformed request line");
  req_.method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1), version = line.substr(sp2 + 1);
  if (!is_token(req_.method) || target.empty()) return fail(400, "malformed request line");
  for (char c : target)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7F) return fail(400, "malformed request target");
  if (version.size() != 8 || version.compare(0, 5, "HTTP/") != 0 || version[6] != '.')
    return fail(400, "malformed request line");
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return fail(505, "only HTTP/1.0 and HTTP/1.1 are served");
  req_.path = path_of(target);
  http10_ = version == "HTTP/1.0";
  return Status::complete;
}

RequestReader::Status RequestReader::parse_head(const std::string& head) {
  size_t pos = 0;
  std::string line;
  next_line(head, pos, line);
  if (parse_request_line(line) == Status::failed) return Status::failed;

  while (next_line(head, pos, line) && !line.empty()) {
    if (line[0] == ' ' || line[0] == '\t') return fail(400, "folded header line");
    size_t colon = line.find(':');
    if (colon == std::string::npos) return fail(400, "malformed header line");
    std::string name = line.substr(0, colon);
    if (!is_token(name)) return fail(400, "malformed header name");
    std::string value = trim(line.substr(colon + 1));
    if (value.find_first_of(std::string("\r\0", 2)) != std::string::npos)
      return fail(400, "a header value holds CR or NUL");
    req_.headers.emplace_back(std::move(name), std::move(value));
  }

  bool http10 = http10_;
  std::string connection, length, encoding;
  bool lengths_differ = false, has_length = false, has_encoding = false;
  for (const auto& [name, value] : req_.headers) {
    if (strcasecmp(name.c_str(), "connection") == 0) {
      connection += value + ",";
    } else if (strcasecmp(name.c_str(), "content-length") == 0) {
      if (has_length && value != length) lengths_differ = true;
      has_length = true;
      length = value;
    } else if (strcasecmp(name.c_str(), "transfer-encoding") == 0) {
      has_encoding = true;
      encoding += value + ",";
    } else if (strcasecmp(name.c_str(), "expect") == 0) {
      if (strcasecmp(value.c_str(), "100-continue") == 0 && !http10) expect_continue_ = true;
    }
  }
  keep_alive_ = http10 ? has_token(connection, "keep-alive") : !has_token(connection, "close");

  // A request framed two ways could be read one way here and another by a
  // proxy in front: refused, as RFC 9112 (6.1) allows.
  if (has_encoding && (has_length || http10)) return fail(400, "both Content-Length and Transfer-Encoding");
  if (has_encoding) {
    if (strcasecmp(trim(encoding.substr(0, encoding.size() - 1)).c_str(), "chunked") != 0)
      return fail(501, "only the chunked transfer coding is supported");
    stage_ = Stage::chunk_size;
    return Status::complete;
  }
  if (lengths_differ) return fail(400, "conflicting Content-Length headers");
  if (has_length) {
    if (length.empty() || length.size() > 18 || length.find_first_not_of("0123456789") != std::string::npos)
      return fail(400, "malformed Content-Length");
    content_length_ = std::stoull(length);
    if (content_length_ > max_body_) return fail(413, larger_than("body", max_body_));
  }
  stage_ = Stage::body;
  return Status::complete;
}

RequestReader::Status RequestReader::read_chunked(std::string& in) {
  size_t pos = 0;
  std::string line;
  Status result = Status::incomplete;
  while (result == Status::incomplete) {
    if (stage_ == Stage::chunk_size) {
      if (!next_line(in, pos, line)) {
        if (in.size() - pos > 1024) result = fail(400, "malformed chunk size");
        break;
      }
      size_t digits = line.find_first_not_of("0123456789abcdefABCDEF");
      if (digits == 0 || (digits == std::string::npos ? line.size() : digits) > 15 ||
          (digits != std::string::npos && line[digits] != ';' && line[digits] != ' ' && line[digits] != '\t')) {
        result = fail(400, "malformed chunk size");
        break;
      }
      chunk_left_ = std::stoull(line.substr(0, digits), nullptr, 16);
      if (chunk_left_ > max_body_ - req_.body.size()) {
        result = fail(413, larger_than("body", max_body_));
        break;
      }
      stage_ = chunk_left_ ? Stage::chunk_data : Stage::trailers;
    } else if (stage_ == Stage::chunk_data) {
      size_t n = std::min(chunk_left_, in.size() - pos);
      req_.body.append(in, pos, n);
      pos += n;
      chunk_left_ -= n;
      if (chunk_left_) break;
      stage_ = Stage::chunk_end;
    } else if (stage_ == Stage::chunk_end) {
      if (!next_line(in, pos, line)) {
        if (in.size() - pos > 1) result = fail(400, "malformed chunk");
        break;
      }
      if (!line.empty()) result = fail(400, "malformed chunk");
      stage_ = Stage::chunk_size;
    } else {  // trailers: read and dropped, within the head's limit
      size_t before = pos;
      bool whole = next_line(in, pos, line);
      head_bytes_ += (whole ? pos : in.size()) - before;
      if (head_bytes_ > kMaxHeadBytes) {
        result = fail(431, larger_than("request headers", kMaxHeadBytes));
      } else if (whole && line.empty()) {
        stage_ = Stage::done;
        result = Status::complete;
      } else if (!whole) {
        head_bytes_ -= in.size() - before;  // counted again once whole
        break;
      }
    }
  }
  in.erase(0, pos);
  return result;
}

}  // namespace relay
