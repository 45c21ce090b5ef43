-- A different catalogue page on every request: /products?page=<random in 1..N>.
-- Usage: wrk ... -s bench/lua/catalog_pages.lua URL -- N
local n = 50

function init(args)
  if args[1] then n = tonumber(args[1]) end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)
end

function request()
  return wrk.format("GET", "/products?page=" .. math.random(1, n))
end
