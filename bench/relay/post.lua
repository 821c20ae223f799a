-- wrk script: POST the pre-signed deliveries in DELIVERIES (gen.mjs output),
-- each once, round-robin over wrk's threads (thread k of T sends lines k,
-- k+T, ...). When a thread has sent all of its lines it stops sending, so no
-- delivery is sent twice (unless WRAP=1: then it starts over, for floors that
-- never read the body); wrk itself still runs for its -d duration, so such a
-- point's rate is understated: done() reports ran_out=1.
-- Prints one line: RESULT key=value ...
local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local requests, next_one, wrap = {}, 1, os.getenv("WRAP") == "1"
ran_out = 0 -- global: done() reads it with thread:get

function init(args)
  local k, n, line_no = index, tonumber(os.getenv("THREADS") or "1"), 0 -- THREADS: wrk -t
  for line in io.lines(os.getenv("DELIVERIES")) do
    if line_no % n == k then
      local id, ts, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      requests[#requests + 1] = wrk.format("POST", "/webhooks", {
        ["Content-Type"] = "application/json",
        ["svix-id"] = id, ["svix-timestamp"] = ts, ["svix-signature"] = sig,
      }, body)
    end
    line_no = line_no + 1
  end
  -- wrk calls request() once on thread 0 before sending (to check the script):
  -- that call gets a copy of the first request, so none is skipped.
  if k == 0 and #requests > 0 then next_one = 0; requests[0] = requests[1] end
end

function request()
  if next_one > #requests then
    if wrap then
      next_one = 1
    else
      ran_out = 1
      wrk.thread:stop()
      next_one = #requests -- a request must be returned; this one is a duplicate
    end
  end
  local r = requests[next_one]
  next_one = next_one + 1
  return r
end

function done(summary, latency, requests)
  local ran = 0
  for _, t in ipairs(threads) do ran = ran + (t:get("ran_out") or 0) end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f p50_us=%d p99_us=%d max_us=%d non2xx=%d socket_errors=%d ran_out=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout, ran))
end
