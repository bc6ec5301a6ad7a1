-- wrk script for scripts/bench-search.sh: every request is a different
-- search, taken in turn from the file named by QUERIES, each of the THREADS
-- threads starting at its own share of the file, so that no search repeats
-- (and none is answered from the page cache) while the run asks fewer
-- searches than the file holds. Counts the answers that were not 200.
local queries = {}
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("QUERIES")) do
    queries[#queries + 1] = line
  end
  position = math.floor((id - 1) * #queries / tonumber(os.getenv("THREADS")))
  failed = 0
end

function request()
  position = position % #queries + 1
  return wrk.format("GET", "/search/" .. queries[position] .. "/")
end

function response(status, headers, body)
  if status ~= 200 then failed = failed + 1 end
end

function done(summary, latency, requests)
  local failures = 0
  for _, thread in ipairs(threads) do
    failures = failures + thread:get("failed")
  end
  io.write(string.format("not 200: %d\n", failures))
end
