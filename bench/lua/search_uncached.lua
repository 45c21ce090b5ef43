-- A search the cache has not seen: the word from the command line plus a random price
-- filter, so nearly every request runs the full search and count on the database.
-- Usage: wrk ... -s bench/lua/search_uncached.lua URL -- <url-encoded word>
local word = "%E5%88%BA%E7%BB%A3"

function init(args)
  if args[1] then word = args[1] end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)
end

function request()
  local min_price = string.format("%d.%02d", math.random(0, 20), math.random(0, 99))
  return wrk.format("GET", "/products?q=" .. word .. "&min_price=" .. min_price)
end
