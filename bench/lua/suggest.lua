-- Suggestions while typing: /api/search/suggest?q=<a random prefix someone types>.
local prefixes = {"%E7%BB%A3", "%E5%88%BA", "%E5%88%BA%E7%BB%A3", "%E8%8C%B6", "%E6%B5%B7", "%E6%B5%B7%E9%B2%9C",
                  "%E7%AB%B9", "%E7%AB%B9%E7%BC%96", "%E5%B8%83", "%E8%93%9D%E5%8D%B0", "%E6%9D%A8%E6%A2%85",
                  "s", "si", "sil", "silk", "t", "te", "tea", "em", "emb", "bamb", "fan"}

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)
end

function request()
  return wrk.format("GET", "/api/search/suggest?q=" .. prefixes[math.random(1, #prefixes)])
end
