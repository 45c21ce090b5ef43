-- Listings with a random combination of filters nobody has cached: an optional search word,
-- category, district, price range (sometimes min above max), sort and page.
-- Usage: wrk ... -s bench/lua/search_filtered.lua URL
local words = {"%E5%88%BA%E7%BB%A3", "%E7%BB%A3%E8%8A%B1", "silk", "%E8%8C%B6", "%E6%B5%B7%E9%B2%9C",
               "%E7%AB%B9%E7%BC%96", "%E5%B8%83", ""}
local categories = {"embroidery", "weaving", "textiles", "ceramics", "seafood", "tea", "snacks", "produce", ""}
local districts = {"%E8%B1%A1%E5%B1%B1%E5%8E%BF", "%E5%AE%81%E6%B5%B7%E5%8E%BF", "%E6%85%88%E6%BA%AA%E5%B8%82", ""}
local sorts = {"relevance", "newest", "price_asc", "price_desc"}

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)
end

local function pick(list)
  return list[math.random(1, #list)]
end

function request()
  local path = "/products?min_price=" .. string.format("%d.%02d", math.random(0, 50), math.random(0, 99))
  local q = pick(words)
  if q ~= "" then path = path .. "&q=" .. q end
  local c = pick(categories)
  if c ~= "" and math.random() < 0.5 then path = path .. "&category=" .. c end
  local d = pick(districts)
  if d ~= "" and math.random() < 0.3 then path = path .. "&district=" .. d end
  if math.random() < 0.5 then path = path .. "&max_price=" .. math.random(20, 2000) end
  path = path .. "&sort=" .. pick(sorts) .. "&page=" .. math.random(1, 5)
  return wrk.format("GET", path)
end
