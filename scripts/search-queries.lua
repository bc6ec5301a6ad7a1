-- wrk script for scripts/bench-search.sh: every request is a different
-- search, taken in turn from the file named by QUERIES, each of the THREADS
-- threads starting at its own share of the file, so that no search repeats
-- (and none is answered from the page cache) while the run asks fewer
-- searches than the file holds. No response() hook: wrk counts answers that
-- are not 2xx or 3xx itself, and reading every body into Lua would take CPU
-- from the server on a two-core machine.
local queries = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  for line in io.lines(os.getenv("QUERIES")) do
    queries[#queries + 1] = line
  end
  position = math.floor((id - 1) * #queries / tonumber(os.getenv("THREADS")))
end

function request()
  position = position % #queries + 1
  return wrk.format("GET", "/search/" .. queries[position] .. "/")
end
