-- wrk script of the fault suite: every thread sends the same request (method, body and content type
-- from the arguments after --) and counts answers by status; done() prints the totals of all threads
-- on lines the suite parses:
--   STATUS 200=1234 503=5
--   ERRORS connect=0 read=0 write=0 timeout=0
--   LATENCY max_us=12345
-- wrk's own error counts mean: connect/write - the request never left (refused, or the server closed
-- first); read - the request was sent and the connection ended before a complete answer (a reset
-- after send); timeout - no answer within wrk's timeout.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = args[1] or "POST"
  wrk.body = args[2] or ""
  wrk.headers["Content-Type"] = args[3] or "application/octet-stream"
  statuses = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
  end
  io.write("STATUS")
  for status, n in pairs(total) do
    io.write(string.format(" %d=%d", status, n))
  end
  io.write("\n")
  local e = summary.errors
  io.write(string.format("ERRORS connect=%d read=%d write=%d timeout=%d\n", e.connect, e.read, e.write, e.timeout))
  io.write(string.format("LATENCY max_us=%d\n", latency.max))
end
