-- wrk script for benchmarks/load_webhooks.py: each thread replays its own file of pre-signed
-- requests (one a line: path, signature and form body, tab-separated), in order.
local threads = {}
local requests = {}
local next_index = 1

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  local file = assert(io.open(args[1] .. "/" .. thread_number .. ".tsv"))
  for line in file:lines() do
    local path, signature, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    table.insert(requests, wrk.format("POST", path, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Twilio-Signature"] = signature,
    }, body))
  end
  file:close()
end

function request()
  local chosen = requests[next_index]
  next_index = next_index % #requests + 1
  return chosen
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.timeout, e.status))
end
