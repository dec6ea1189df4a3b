-- One room's live state (see the package doc for the keys). Every operation
-- of Redis that changes more than one key, or reads and then writes, is one
-- call of this script, so it is atomic. ARGV[1..11] are the limits and
-- expiries, ARGV[12] the operation, ARGV[13..] its arguments. Times are
-- Unix milliseconds; numbers that may exceed 14 digits never go through
-- cjson as numbers (it prints 14 significant digits): they travel as strings.

local STATE, INVITE, ENTRIES, WAITING, DECIDED, LEASES, BLOCKED, SEATS, MEMBERS, REVOKED, CHAT, CHATSEQ, RIVALS = unpack(KEYS)
local LIM = {
  lobby = tonumber(ARGV[1]), decided = tonumber(ARGV[2]), blocked = tonumber(ARGV[3]),
  seats = tonumber(ARGV[4]), revoked = tonumber(ARGV[5]), chat = tonumber(ARGV[6]),
  leases = tonumber(ARGV[7]),
}
local TTL = {invite = tonumber(ARGV[8]), seat = tonumber(ARGV[9]), decision = tonumber(ARGV[10]), room = tonumber(ARGV[11])}
local LOBBY_SLACK = 60000 -- lobby keys outlive their longest deadline by a minute

local function arg(i) return ARGV[12 + i] end

-- keep makes key live at least ttl ms more (never shortens it).
local function keep(key, ttl)
  if ttl <= 0 then return end
  local t = redis.call('PTTL', key)
  if t == -1 or (t >= 0 and t < ttl) then redis.call('PEXPIRE', key, math.ceil(ttl)) end
end

-- keep_lobby makes the lobby keys outlive a deadline ttl ms ahead by a
-- minute.
local function keep_lobby(ttl)
  keep(ENTRIES, ttl + LOBBY_SLACK)
  keep(WAITING, ttl + LOBBY_SLACK)
end

local function flag(b) if b then return 1 end return 0 end

-- Presence ------------------------------------------------------------------

local function lease_parts(m) return string.match(m, '^(%a)|([^|]*)|') end

-- live_leases: the entries with a live lobby lease (a set) and the seats of
-- the live moderator leases (a list, one per stream).
local function live_leases(now)
  local lobby, mods = {}, {}
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', LEASES, '(' .. now, '+inf')) do
    local kind, id = lease_parts(m)
    if kind == 'm' then mods[#mods + 1] = id elseif kind == 'l' then lobby[id] = true end
  end
  return lobby, mods
end

-- sweep drops lapsed leases and entries and updates the host flag; it
-- returns {entries left, host flag changed, host present}.
local function sweep(now)
  redis.call('ZREMRANGEBYSCORE', LEASES, '-inf', now)
  local lobby, mods = live_leases(now)
  local removed = 0
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', WAITING, '-inf', now)) do
    if not lobby[id] then
      redis.call('ZREM', WAITING, id)
      redis.call('HDEL', ENTRIES, id)
      removed = removed + 1
    end
  end
  local host = #mods > 0
  local was = redis.call('HGET', STATE, 'host') == '1'
  if host ~= was then
    redis.call('HSET', STATE, 'host', flag(host))
    redis.call('PEXPIRE', STATE, TTL.room)
  end
  return {flag(removed > 0), flag(host ~= was), flag(host)}
end

-- Lobby ---------------------------------------------------------------------

-- entries: the waiting entries, decoded, in knock order.
local function entries()
  local out = {}
  for i, raw in ipairs(redis.call('HVALS', ENTRIES)) do out[i] = cjson.decode(raw) end
  table.sort(out, function(a, b) return tonumber(a.n) < tonumber(b.n) end)
  return out
end

local function lobby_on() return flag(redis.call('HGET', STATE, 'lobby') ~= '0') end

local function blocked(gid, key)
  return (gid ~= '' and redis.call('SISMEMBER', BLOCKED, 'g:' .. gid) == 1) or redis.call('SISMEMBER', BLOCKED, 'n:' .. key) == 1
end

-- remember records a decision, starting afresh past the limit.
local function remember(id, d)
  if redis.call('HLEN', DECIDED) >= LIM.decided and redis.call('HEXISTS', DECIDED, id) == 0 then
    redis.call('DEL', DECIDED)
  end
  redis.call('HSET', DECIDED, id, d)
  redis.call('PEXPIRE', DECIDED, TTL.decision)
end

-- take decides a waiting entry.
local function take(id, d)
  redis.call('ZREM', WAITING, id)
  redis.call('HDEL', ENTRIES, id)
  remember(id, d)
end

-- Seats ---------------------------------------------------------------------

local function seat_left(id)
  local raw = redis.call('HGET', SEATS, id)
  if raw then
    local s = cjson.decode(raw)
    if s.member ~= '' and redis.call('HGET', MEMBERS, s.member) == id then redis.call('HDEL', MEMBERS, s.member) end
  end
end

local function revoke(id, now)
  redis.call('ZADD', REVOKED, now, id)
  local n = redis.call('ZCARD', REVOKED)
  if n > LIM.revoked then redis.call('ZREMRANGEBYRANK', REVOKED, 0, n - LIM.revoked - 1) end
  redis.call('PEXPIRE', REVOKED, TTL.seat)
  seat_left(id)
end

local function is_revoked(id)
  if redis.call('ZSCORE', REVOKED, id) then return true end
  local raw = redis.call('HGET', SEATS, id)
  if not raw then return false end
  local s = cjson.decode(raw)
  return s.role ~= 'moderator' and blocked(s.gid, s.key)
end

-- Operations ----------------------------------------------------------------

local OPS = {}

function OPS.knock()
  local now, id, name, key, gid, addr, v, per, since, grace =
    tonumber(arg(1)), arg(2), arg(3), arg(4), arg(5), arg(6), arg(7), tonumber(arg(8)), arg(9), tonumber(arg(10))
  local sw = sweep(now)
  local function result(outcome, e)
    local raw = ''
    if e then raw = cjson.encode(e) end
    return {outcome, raw, sw[1], sw[2], sw[3]}
  end
  if blocked(gid, key) then return result('blocked') end
  local e = {id = id, name = name, key = key, gid = gid, addr = addr, v = v, since = since, n = '0'}
  if redis.call('HGET', STATE, 'lobby') == '0' then
    remember(id, 'admitted')
    return result('admitted', e)
  end
  local found, from, count = nil, 0, 0
  for _, raw in ipairs(redis.call('HVALS', ENTRIES)) do
    local w = cjson.decode(raw)
    count = count + 1
    if gid ~= '' and w.gid == gid then found = w end
    if addr ~= '' and w.addr == addr then from = from + 1 end
  end
  if found then
    found.name, found.key, found.v = name, key, v
    e = found
  elseif count >= LIM.lobby then
    return result('full')
  elseif addr ~= '' and from >= per then
    return result('too-many')
  else
    e.n = tostring(redis.call('HINCRBY', STATE, 'knocks', 1))
    redis.call('PEXPIRE', STATE, TTL.room)
  end
  redis.call('HSET', ENTRIES, e.id, cjson.encode(e))
  redis.call('ZADD', WAITING, now + grace, e.id)
  keep_lobby(grace)
  return result('waiting', e)
end

function OPS.lobby()
  local now = tonumber(arg(1))
  local lobby, mods = live_leases(now)
  local out = {lobby_on(), flag(#mods > 0)}
  for _, e in ipairs(entries()) do
    if tonumber(redis.call('ZSCORE', WAITING, e.id) or 0) > now or lobby[e.id] then out[#out + 1] = cjson.encode(e) end
  end
  return out
end

function OPS.decide()
  local now, id, d = tonumber(arg(1)), arg(2), arg(3)
  local sw = sweep(now)
  local raw = redis.call('HGET', ENTRIES, id) or ''
  if raw ~= '' then take(id, d) end
  return {raw, sw[1], sw[2], sw[3]}
end

function OPS.admitall()
  local now, close = tonumber(arg(1)), arg(2)
  local sw = sweep(now)
  local out = {sw[1], sw[2], sw[3]}
  for _, e in ipairs(entries()) do
    take(e.id, 'admitted')
    out[#out + 1] = cjson.encode(e)
  end
  if close == '1' then
    redis.call('HSET', STATE, 'lobby', '0')
    redis.call('PEXPIRE', STATE, TTL.room)
  end
  return out
end

function OPS.entrystate()
  local now, id = tonumber(arg(1)), arg(2)
  local lobby, mods = live_leases(now)
  local host = flag(#mods > 0)
  local d = redis.call('HGET', DECIDED, id)
  if d then return {d, 0, host} end
  local score = redis.call('ZSCORE', WAITING, id)
  return {'', flag(score and (tonumber(score) > now or lobby[id])), host}
end

function OPS.admission()
  local gid, key, id = arg(1), arg(2), arg(3)
  local admitted = id ~= '' and redis.call('HGET', DECIDED, id) == 'admitted'
  return {flag(blocked(gid, key)), lobby_on(), flag(admitted)}
end

function OPS.lease()
  local now, kind, id, stream, till, per = tonumber(arg(1)), arg(2), arg(3), arg(4), tonumber(arg(5)), tonumber(arg(6))
  local m = kind .. '|' .. id .. '|' .. stream
  redis.call('ZREMRANGEBYSCORE', LEASES, '-inf', now)
  if not redis.call('ZSCORE', LEASES, m) then
    -- The holder's own soonest-ending stream gives way first (in score
    -- order, so the first of its members found is that one).
    local prefix, own, first = kind .. '|' .. id .. '|', 0, nil
    for _, o in ipairs(redis.call('ZRANGE', LEASES, 0, -1)) do
      if string.sub(o, 1, #prefix) == prefix then
        own = own + 1
        first = first or o
      end
    end
    if own >= per then
      redis.call('ZREM', LEASES, first)
    elseif redis.call('ZCARD', LEASES) >= LIM.leases then
      redis.call('ZPOPMIN', LEASES)
    end
  end
  redis.call('ZADD', LEASES, till, m)
  keep(LEASES, till - now)
  if kind == 'l' then
    keep_lobby(till - now)
  end
  return sweep(now)
end

function OPS.endlease()
  local now, kind, id, stream, grace = tonumber(arg(1)), arg(2), arg(3), arg(4), tonumber(arg(5))
  redis.call('ZREM', LEASES, kind .. '|' .. id .. '|' .. stream)
  if kind == 'l' and redis.call('ZSCORE', WAITING, id) then
    local lobby = live_leases(now)
    if not lobby[id] then
      redis.call('ZADD', WAITING, now + grace, id)
      keep_lobby(grace)
    end
  end
  return sweep(now)
end

function OPS.sweep()
  return sweep(tonumber(arg(1)))
end

function OPS.moderators()
  local _, mods = live_leases(tonumber(arg(1)))
  return mods
end

function OPS.takeseat()
  local id, raw = arg(1), arg(2)
  if redis.call('HLEN', SEATS) >= LIM.seats then redis.call('DEL', SEATS, MEMBERS, RIVALS) end
  redis.call('HSET', SEATS, id, raw)
  redis.call('PEXPIRE', SEATS, TTL.seat)
  return 1
end

-- rivals are the seats whose claim on member was refused (space-separated
-- ids, seat ids being hex).
local function rivals(member)
  local out = {}
  for r in string.gmatch(redis.call('HGET', RIVALS, member) or '', '%S+') do out[#out + 1] = r end
  return out
end

-- heir: see roomstate.Heir (prev_raw is the holder's seat JSON, or false).
local function heir(prev_raw, next)
  if not prev_raw then return false end
  local prev = cjson.decode(prev_raw)
  if prev.role == 'moderator' and next.role == 'moderator' then return true end
  return prev.role == 'guest' and next.role == 'guest' and prev.gid ~= '' and prev.gid == next.gid
end

function OPS.seatismember()
  local id, member, max_rivals = arg(1), arg(2), tonumber(arg(3))
  local raw = redis.call('HGET', SEATS, id)
  if not raw then return 0 end
  local s = cjson.decode(raw)
  if s.member == member or is_revoked(id) then return 0 end
  local other = redis.call('HGET', MEMBERS, member)
  -- Another seat's member, unless the same person's reloaded page: id is
  -- its rival.
  if other and other ~= id and not heir(redis.call('HGET', SEATS, other), s) then
    local rs = rivals(member)
    for _, r in ipairs(rs) do if r == id then return 0 end end
    if #rs == 0 and redis.call('HLEN', RIVALS) >= LIM.seats then redis.call('DEL', RIVALS) end
    if #rs < max_rivals then
      rs[#rs + 1] = id
      redis.call('HSET', RIVALS, member, table.concat(rs, ' '))
      redis.call('PEXPIRE', RIVALS, TTL.seat)
    end
    return 0
  end
  seat_left(id)
  s.member = member
  redis.call('HSET', SEATS, id, cjson.encode(s))
  redis.call('HSET', MEMBERS, member, id)
  redis.call('PEXPIRE', SEATS, TTL.seat)
  redis.call('PEXPIRE', MEMBERS, TTL.seat)
  return 1
end

function OPS.seatleft()
  seat_left(arg(1))
  return 1
end

function OPS.memberseat()
  local id = redis.call('HGET', MEMBERS, arg(1))
  if not id then return {} end
  return {id, redis.call('HGET', SEATS, id) or ''}
end

function OPS.revoked()
  return flag(is_revoked(arg(1)))
end

function OPS.revokemember()
  local member, except, now = arg(1), arg(2), tonumber(arg(3))
  local out, seen = {}, {}
  local holder = redis.call('HGET', MEMBERS, member)
  if holder and holder ~= except then out[1], seen[holder] = holder, true end
  for _, r in ipairs(rivals(member)) do
    if r ~= except and not seen[r] then out[#out + 1], seen[r] = r, true end
  end
  redis.call('HDEL', RIVALS, member)
  for _, id in ipairs(out) do revoke(id, now) end
  return out
end

function OPS.block()
  local now, gid, key, seat = tonumber(arg(1)), arg(2), arg(3), arg(4)
  local sw = sweep(now)
  if redis.call('SCARD', BLOCKED) < LIM.blocked then
    if gid ~= '' then redis.call('SADD', BLOCKED, 'g:' .. gid) end
    if key ~= '' then redis.call('SADD', BLOCKED, 'n:' .. key) end
    redis.call('PEXPIRE', BLOCKED, TTL.room)
  end
  local seats = {}
  if seat ~= '' then
    revoke(seat, now)
    seats[1] = seat
  end
  local all = redis.call('HGETALL', SEATS)
  for i = 1, #all, 2 do
    local id, s = all[i], cjson.decode(all[i + 1])
    if id ~= seat and s.role ~= 'moderator' and blocked(s.gid, s.key) then
      revoke(id, now)
      seats[#seats + 1] = id
    end
  end
  local denied = {}
  for _, e in ipairs(entries()) do
    if blocked(e.gid, e.key) then
      take(e.id, 'denied')
      denied[#denied + 1] = cjson.encode(e)
    end
  end
  return {sw[1], sw[2], sw[3], seats, denied}
end

function OPS.newinvite()
  local now = tonumber(arg(1))
  local sw = sweep(now)
  local v = redis.call('INCR', INVITE)
  redis.call('PEXPIRE', INVITE, TTL.invite)
  local out = {v, sw[1], sw[2], sw[3]}
  for _, e in ipairs(entries()) do
    if tonumber(e.v) < v then
      take(e.id, 'replaced')
      out[#out + 1] = cjson.encode(e)
    end
  end
  return out
end

function OPS.chat()
  local seat, role, fallback, text, at = arg(1), arg(2), arg(3), arg(4), arg(5)
  if is_revoked(seat) then return false end
  local author = fallback
  local raw = redis.call('HGET', SEATS, seat)
  if raw then
    local s = cjson.decode(raw)
    if s.name ~= '' then author = s.name end
  end
  local id = string.format('%d', math.max(tonumber(redis.call('GET', CHATSEQ) or '0') + 1, tonumber(at)))
  redis.call('SET', CHATSEQ, id, 'PX', TTL.room)
  local msg = cjson.encode({id = id, author = author, role = role, at = at, text = text})
  redis.call('RPUSH', CHAT, msg)
  redis.call('LTRIM', CHAT, -LIM.chat, -1)
  redis.call('PEXPIRE', CHAT, TTL.room)
  return msg
end

local op = OPS[ARGV[12]]
if not op then return redis.error_reply('roomstate: no operation ' .. tostring(ARGV[12])) end
return op()
