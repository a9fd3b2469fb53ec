--- IP addresses and CIDR blocks in pure Lua.
--
-- Addresses become byte strings (4 bytes for IPv4, 16 for IPv6), so a CIDR test is a
-- prefix comparison of bytes. IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are
-- reduced to IPv4, so that a dual-stack listener reporting a mapped peer address still
-- matches IPv4 rules. Dotted quads with leading zeros (`010.0.0.1`) are refused: some
-- parsers read them as octal, and a rule must never mean two different things.
local ip = {}

local function parse_ipv4(text)
  local a, b, c, d = text:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then
    return nil
  end
  local octets = { a, b, c, d }
  for i, part in ipairs(octets) do
    if #part > 3 or (#part > 1 and part:sub(1, 1) == "0") then
      return nil
    end
    local n = tonumber(part)
    if n > 255 then
      return nil
    end
    octets[i] = n
  end
  return string.char(octets[1], octets[2], octets[3], octets[4])
end

local function split_colons(text)
  local parts, start = {}, 1
  while true do
    local at = text:find(":", start, true)
    if not at then
      parts[#parts + 1] = text:sub(start)
      return parts
    end
    parts[#parts + 1] = text:sub(start, at - 1)
    start = at + 1
  end
end

-- The 16-bit words of one side of an IPv6 address ("" has none). An IPv4 tail is
-- allowed only where it would end the address.
local function ipv6_words(text, ipv4_tail_allowed)
  local words = {}
  if text == "" then
    return words
  end
  local parts = split_colons(text)
  for i, part in ipairs(parts) do
    if i == #parts and ipv4_tail_allowed and part:find(".", 1, true) then
      local v4 = parse_ipv4(part)
      if not v4 then
        return nil
      end
      words[#words + 1] = v4:byte(1) * 256 + v4:byte(2)
      words[#words + 1] = v4:byte(3) * 256 + v4:byte(4)
    elseif part:match("^%x%x?%x?%x?$") then
      words[#words + 1] = tonumber(part, 16)
    else
      return nil
    end
  end
  return words
end

local function parse_ipv6(text)
  text = text:gsub("%%.*$", "") -- a zone id (fe80::1%eth0) does not change the address
  local words
  local head, tail = text:match("^(.-)::(.*)$")
  if head then
    if tail:find("::", 1, true) then
      return nil
    end
    local left, right = ipv6_words(head, false), ipv6_words(tail, true)
    if not left or not right or #left + #right > 7 then
      return nil
    end
    words = left
    for _ = 1, 8 - #left - #right do
      words[#words + 1] = 0
    end
    for _, w in ipairs(right) do
      words[#words + 1] = w
    end
  else
    words = ipv6_words(text, true)
    if not words or #words ~= 8 then
      return nil
    end
  end
  local bytes = {}
  for i, w in ipairs(words) do
    bytes[2 * i - 1] = w // 256
    bytes[2 * i] = w % 256
  end
  return string.char(table.unpack(bytes))
end

local MAPPED_PREFIX = string.rep("\0", 10) .. "\255\255"

-- Bytes as written: an IPv4-mapped IPv6 address stays 16 bytes here.
local function parse_literal(text)
  if type(text) ~= "string" then
    return nil
  end
  text = text:match("^%[(.*)%]$") or text
  if text:find(":", 1, true) then
    return parse_ipv6(text)
  end
  return parse_ipv4(text)
end

--- Parses an IPv4 or IPv6 address (brackets and zone ids allowed) into 4 or 16 bytes.
-- @return bytes, or nil and an error message
function ip.parse(text)
  local bytes = parse_literal(text)
  if not bytes then
    return nil, string.format("'%s' is not an IP address", tostring(text))
  end
  if #bytes == 16 and bytes:sub(1, 12) == MAPPED_PREFIX then
    return bytes:sub(13)
  end
  return bytes
end

--- Parses `address` or `address/prefix` into a block { bytes = ..., prefix = n }.
-- A bare address is a block of one. Host bits beyond the prefix are ignored, as
-- most CIDR matchers do (10.1.2.3/8 is 10.0.0.0/8).
-- @return block, or nil and an error message
function ip.parse_cidr(text)
  local err = string.format("'%s' is not an IP address or CIDR block", tostring(text))
  if type(text) ~= "string" then
    return nil, err
  end
  local address, prefix_text = text:match("^(.-)/(%d+)$")
  local bytes = parse_literal(address or text)
  if not bytes then
    return nil, err
  end
  local prefix = prefix_text and tonumber(prefix_text) or #bytes * 8
  if prefix > #bytes * 8 then
    return nil, err
  end
  if #bytes == 16 and bytes:sub(1, 12) == MAPPED_PREFIX and prefix >= 96 then
    bytes, prefix = bytes:sub(13), prefix - 96
  end
  return { bytes = bytes, prefix = prefix }
end

--- True when the address bytes (from ip.parse) lie inside the block.
function ip.contains(block, bytes)
  if #bytes ~= #block.bytes then
    return false
  end
  local whole = block.prefix // 8
  if bytes:sub(1, whole) ~= block.bytes:sub(1, whole) then
    return false
  end
  local rest = block.prefix % 8
  if rest == 0 then
    return true
  end
  local mask = 256 - (1 << (8 - rest))
  return (bytes:byte(whole + 1) & mask) == (block.bytes:byte(whole + 1) & mask)
end

--- Compiles a list of addresses and CIDR blocks.
-- @return a function(bytes) -> boolean, or nil and an error naming the entry ("[2]: ...")
function ip.matcher(list)
  local blocks = {}
  for i, entry in ipairs(list) do
    local block, err = ip.parse_cidr(entry)
    if not block then
      return nil, string.format("[%d]: %s", i, err)
    end
    blocks[i] = block
  end
  return function(bytes)
    for _, block in ipairs(blocks) do
      if ip.contains(block, bytes) then
        return true
      end
    end
    return false
  end
end

return ip
