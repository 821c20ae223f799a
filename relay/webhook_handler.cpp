#include "webhook_handler.hpp"

#include <algorithm>

#include "metrics.hpp"
#include "text.hpp"

namespace relay {

namespace {

// The request headers as a JSON object with lower-cased names; when a header
// repeats, the first occurrence wins. False when a header is not UTF-8.
bool headers_json(const Request& req, std::string& out) {
  out = "{";
  std::vector<std::string> seen;
  for (const auto& [name, value] : req.headers) {
    std::string key = ascii_lower(name);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
    if (!valid_utf8(key) || !valid_utf8(value)) return false;
    if (out.size() > 1) out += ',';
    append_json_string(out, key);
    out += ':';
    append_json_string(out, value);
    seen.push_back(std::move(key));
  }
  out += '}';
  return true;
}

// A failure as the sender is told it: orgsync's own words about the delivery
// (401, 400), else only that the database failed and whether to retry. The
// details (libpq's, which name the server's socket; the server's, which may
// name its tables) go to the log alone.
Response response_of(const Outcome& o) {
  if (o.status != 200) {
    const char* general = o.status == 503   ? "database unavailable, retry later"
                          : o.status >= 500 ? "the database failed on this delivery"
                                            : nullptr;
    Response res = error_response(o.status, general ? general : o.error, o.sqlstate);
    if (general) res.notes.error = o.error;
    res.notes.batch = o.batch;
    res.notes.outcome = o.result;
    res.notes.reason = o.reason;
    return res;
  }
  Response res;
  res.body = o.json;
  res.notes.batch = o.batch;
  res.notes.outcome = o.result;
  return res;
}

// A delivery the relay refuses itself.
Response rejected(int status, const char* reason, const std::string& error) {
  Response res = refusal(status, reason, error);
  res.notes.outcome = "rejected";
  return res;
}

// POST /webhooks and /webhooks/ENDPOINT: a delivery, for ENDPOINT or "default".
bool delivery_path(const std::string& path, std::string& endpoint) {
  const std::string prefix = "/webhooks/";
  endpoint = path.rfind(prefix, 0) == 0 ? path.substr(prefix.size()) : "";
  if (path != "/webhooks" && (endpoint.empty() || endpoint.find('/') != std::string::npos)) return false;
  if (endpoint.empty()) endpoint = "default";
  return true;
}

// The batcher's answer, turned into the response.
Answer answering(Respond respond) {
  return [respond = std::move(respond)](Outcome o) { respond(response_of(o)); };
}

}  // namespace

void WebhookHandler::handle(Request& req, Respond respond) {
  std::string endpoint;
  if (delivery_path(req.path, endpoint)) {
    if (req.method != "POST") return respond(method_not_allowed("POST"));
    webhook(req, std::move(endpoint), std::move(respond));
  } else if (req.path == "/healthz") {
    if (req.method != "GET" && req.method != "HEAD") return respond(method_not_allowed("GET, HEAD"));
    batcher_.probe(answering(std::move(respond)));
  } else if (req.path == "/metrics" && metrics_) {
    respond(metrics_response(req, *metrics_));
  } else {
    respond(error_response(404, "not found"));
  }
}

void WebhookHandler::webhook(Request& req, std::string endpoint, Respond respond) {
  if (req.multipart())
    return respond(rejected(415, "unsupported_type", "a delivery is a JSON body, not multipart form data"));
  // A genuine delivery is UTF-8 JSON; anything else cannot be a text parameter.
  if (!valid_utf8(req.body))
    return respond(rejected(400, "not_utf8", "body is not valid UTF-8 text (or contains NUL bytes)"));
  std::string headers;
  if (!headers_json(req, headers)) return respond(rejected(400, "not_utf8", "a request header is not valid UTF-8"));
  if (!valid_utf8(endpoint)) return respond(rejected(400, "not_utf8", "endpoint name is not valid UTF-8"));
  // The floor is one unbatched round trip per request.
  if (select_one_) return batcher_.probe(answering(std::move(respond)));
  batcher_.deliver(std::move(headers), std::move(req.body), std::move(endpoint), answering(std::move(respond)));
}

void WebhookHandler::note_refusal(const Request& req, Response& res) {
  std::string endpoint;
  if (res.notes.outcome.empty() && !res.notes.reason.empty() && req.method == "POST" &&
      delivery_path(req.path, endpoint))
    res.notes.outcome = "rejected";
}

}  // namespace relay
