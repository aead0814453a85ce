-- The sandbox every EVAL script runs in, built once per Lua state (at start and after
-- SCRIPT FLUSH), before any script. Redis 7.0 marks the globals and every table reachable
-- from them read-only inside its patched Lua; stock Lua 5.1 has no such flag, so here each
-- of those tables is shown to scripts through an empty proxy whose metatable reads from
-- the real table (its "view") and refuses writes. The real tables are reachable only from
-- this chunk's locals: the wrappers below see through proxies where Redis's C functions
-- would read the table (rawget, next, pairs, getmetatable) and refuse where they would
-- write it (rawset, setmetatable, table.insert).
--
-- Errors are raised as Redis raises them: tables {err=...} where Redis pushes an error
-- table, strings with the caller's position (`error(msg, 2)`) where Redis's C code calls
-- luaL_error, strings without one (`error(msg, 0)`) where the Lua core raises inside a C
-- function; redis.call, a Rust function, raises its error table as mlua's error value,
-- which error_value makes the table again wherever a script or the message handler can see
-- it (pcall, xpcall, coroutine.resume). Every function scripts get from here written in Lua
-- is behind a C trampoline (`rk.c_function`), so the levels below count it: a function
-- called by a script is at level 1, its trampoline at 2, the script at 3. The message handler (err_handler.lua)
-- treats this chunk's frames and their trampolines as the C functions they stand for.
--
-- Arguments: the real globals, the Rust primitives, the message handler, debug.getinfo.
-- Returns the globals scripts see (a proxy).
local G0, rk, handler, getinfo = ...

local type, tostring, tonumber, select, error = type, tostring, tonumber, select, error
local next, rawset, rawget, pairs = next, rawset, rawget, pairs
local setmetatable, getmetatable = setmetatable, getmetatable
local pcall, xpcall, loadstring, load = pcall, xpcall, loadstring, load
local byte = string.byte
local concat, tinsert, tforeach = table.concat, table.insert, table.foreach
local floor, ceil, fmod = math.floor, math.ceil, math.fmod
local string_table, math_table, table_table = string, math, table
local coroutine_table, co_resume = coroutine, coroutine.resume
local rk_acl, rk_err, rk_sha1 = rk.acl_check_cmd, rk.err, rk.sha1hex
local rk_log, rk_setresp, rk_set_repl = rk.log, rk.setresp, rk.set_repl
local rk_rand, rk_srand = rk.rand, rk.srand
local c_function, error_value = rk.c_function, rk.error_value

local RO = 'Attempt to modify a readonly table'

-- A proxy's view, and what getmetatable shows for it (false: nothing).
local view_of, meta_of, proxy_of = {}, {}, {}

-- luaL_typename of argument n of a call.
local function typename(n, ...)
  if select('#', ...) < n then return 'no value' end
  return type((select(n, ...)))
end

-- luaL_argerror for the function that calls it: the name the script called it (its
-- trampoline) by, the script's position.
local function argerror(narg, extramsg)
  local ar = getinfo(3, 'n')
  local name = ar and ar.name or '?'
  if ar and ar.namewhat == 'method' then
    narg = narg - 1
    if narg == 0 then error("calling '" .. name .. "' on bad self (" .. extramsg .. ')', 4) end
  end
  error('bad argument #' .. narg .. " to '" .. name .. "' (" .. extramsg .. ')', 4)
end

-- C's (int) conversion of a double (cvttsd2si: out of range and NaN give INT_MIN).
local function c_int(d)
  if d ~= d or d >= 2147483648 or d <= -2147483649 then return -2147483648 end
  if d >= 0 then return floor(d) end
  return ceil(d)
end

-- luaL_checkint's conversion: (int)(lua_Integer)d, the 64-bit value's low 32 bits.
local function c_int_of_integer(d)
  if d ~= d or d >= 9223372036854775808 or d < -9223372036854775808 then return 0 end
  local t = d >= 0 and floor(d) or ceil(d)
  t = fmod(t, 4294967296)
  if t >= 2147483648 then t = t - 4294967296 elseif t < -2147483648 then t = t + 4294967296 end
  return t
end

----------------------------------------------------------------------------------------------
-- The redis table.

local function log(...)
  local n = select('#', ...)
  if n < 2 then error(rk_err('redis.log() requires two arguments or more.'), 0) end
  local level = tonumber((...))
  if level == nil then error(rk_err('First argument must be a number (log level).'), 0) end
  level = c_int(level)
  if level < 0 or level > 3 then error(rk_err('Invalid debug level.'), 0) end
  -- Redis glues the string (and number) arguments with a space before each but the first
  -- position, whether or not the first is a string.
  local parts, k = {}, 0
  for i = 2, n do
    local s = select(i, ...)
    local ts = type(s)
    if ts == 'string' or ts == 'number' then
      if i ~= 2 then k = k + 1 parts[k] = ' ' end
      k = k + 1 parts[k] = s
    end
  end
  rk_log(level, concat(parts))
end

local function setresp(...)
  if select('#', ...) ~= 1 then error(rk_err('redis.setresp() requires one argument.'), 0) end
  local r = c_int(tonumber((...)) or 0)
  if r ~= 2 and r ~= 3 then error(rk_err('RESP version must be 2 or 3.'), 0) end
  rk_setresp(r)
end

local function sha1hex(...)
  if select('#', ...) ~= 1 then error(rk_err('wrong number of arguments'), 0) end
  local s = ...
  local ts = type(s)
  if ts == 'number' then s = tostring(s) elseif ts ~= 'string' then s = '' end
  return rk_sha1(s)
end

local function error_reply(...)
  local e = ...
  if select('#', ...) ~= 1 or type(e) ~= 'string' then
    return rk_err('wrong number or type of arguments')
  end
  if byte(e, 1) ~= 45 then e = '-' .. e end
  return rk_err(e)
end

local function status_reply(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then
    return rk_err('wrong number or type of arguments')
  end
  return {ok = s}
end

local function set_repl(...)
  if select('#', ...) ~= 1 then error(rk_err('redis.set_repl() requires two arguments.'), 0) end
  local f = c_int(tonumber((...)) or 0)
  if f < 0 or f > 3 then
    error(rk_err('Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.'), 0)
  end
  rk_set_repl(f)
end

local function acl_check_cmd(...)
  local kind, v = rk_acl(...)
  if kind ~= 0 then error(v, 0) end
  return v
end

-- In Redis's order, so that the table iterates as Redis's does.
local redis = {}
-- The Rust functions themselves (C functions to Lua, as Redis's are): redis.call raises a
-- command's error table as mlua's error value, which error_value makes the table again
-- (in pcall, xpcall and coroutine.resume below, and in the message handler).
redis.call = rk.call
redis.pcall = rk.pcall
redis.log = c_function(log)
redis.LOG_DEBUG = 0
redis.LOG_VERBOSE = 1
redis.LOG_NOTICE = 2
redis.LOG_WARNING = 3
redis.REDIS_VERSION_NUM = rk.REDIS_VERSION_NUM
redis.REDIS_VERSION = rk.REDIS_VERSION
redis.setresp = c_function(setresp)
redis.sha1hex = c_function(sha1hex)
redis.error_reply = c_function(error_reply)
redis.status_reply = c_function(status_reply)
redis.set_repl = c_function(set_repl)
redis.REPL_NONE = 0
redis.REPL_AOF = 1
redis.REPL_SLAVE = 2
redis.REPL_REPLICA = 2
redis.REPL_ALL = 3
redis.acl_check_cmd = c_function(acl_check_cmd)
-- No debugger (SCRIPT DEBUG): breakpoint never stops, debug logs nothing.
redis.breakpoint = c_function(function() return false end)
redis.debug = c_function(function() end)
-- Deprecated: scripts always replicate their effects.
redis.replicate_commands = c_function(function() return true end)

----------------------------------------------------------------------------------------------
-- math.random and math.randomseed on Redis's generator (rand48.rs), with the argument
-- checks of Lua's own, and a number drawn before the arguments are checked, as Redis does.

local function random(...)
  local r = rk_rand()
  local n = select('#', ...)
  if n == 0 then return r end
  if n > 2 then error('wrong number of arguments', 3) end
  local a = tonumber((...))
  if a == nil then argerror(1, 'number expected, got ' .. typename(1, ...)) end
  a = c_int_of_integer(a)
  if n == 1 then
    if not (1 <= a) then argerror(1, 'interval is empty') end
    return floor(r * a) + 1
  end
  local b = tonumber((select(2, ...)))
  if b == nil then argerror(2, 'number expected, got ' .. typename(2, ...)) end
  b = c_int_of_integer(b)
  if not (a <= b) then argerror(2, 'interval is empty') end
  return floor(r * (b - a + 1)) + a
end

local function randomseed(...)
  local a = tonumber((...))
  if a == nil then argerror(1, 'number expected, got ' .. typename(1, ...)) end
  rk_srand(c_int_of_integer(a))
end

----------------------------------------------------------------------------------------------
-- Builtins that would see (or write) the real tables behind the proxies.

local function w_rawget(...)
  local t, k = ...
  if type(t) ~= 'table' then argerror(1, 'table expected, got ' .. typename(1, ...)) end
  if select('#', ...) < 2 then argerror(2, 'value expected') end
  local v = view_of[t]
  if v then return rawget(v, k) end
  return rawget(t, k)
end

local function w_rawset(...)
  local t = ...
  if type(t) ~= 'table' then argerror(1, 'table expected, got ' .. typename(1, ...)) end
  if select('#', ...) < 2 then argerror(2, 'value expected') end
  if select('#', ...) < 3 then argerror(3, 'value expected') end
  if view_of[t] then error(RO, 0) end
  return rawset(...)
end

local function w_next(...)
  local t, k = ...
  if type(t) ~= 'table' then argerror(1, 'table expected, got ' .. typename(1, ...)) end
  local v = view_of[t]
  if v then return next(v, k) end
  return next(t, k)
end

local function proxy_next(p, k)
  return next(view_of[p], k)
end

local function w_pairs(...)
  local t = ...
  if type(t) ~= 'table' then argerror(1, 'table expected, got ' .. typename(1, ...)) end
  if view_of[t] then return proxy_next, t, nil end
  return next, t, nil
end

local function w_setmetatable(...)
  local t, mt = ...
  if type(t) ~= 'table' then argerror(1, 'table expected, got ' .. typename(1, ...)) end
  local tm = type(mt)
  if select('#', ...) < 2 or (tm ~= 'nil' and tm ~= 'table') then
    argerror(2, 'nil or table expected')
  end
  if view_of[t] then error(RO, 0) end
  return setmetatable(t, mt)
end

local string_meta -- what getmetatable('') shows: set below, once the proxies exist

local function w_getmetatable(...)
  if select('#', ...) == 0 then argerror(1, 'value expected') end
  local obj = ...
  local m = meta_of[obj]
  if m ~= nil then return m or nil end
  if type(obj) == 'string' then return string_meta end
  return getmetatable(obj)
end

local function w_insert(...)
  local t = ...
  if type(t) ~= 'table' then argerror(1, 'table expected, got ' .. typename(1, ...)) end
  if view_of[t] then error(RO, 0) end
  return tinsert(...)
end

local function w_foreach(...)
  local t, f = ...
  if type(t) ~= 'table' then argerror(1, 'table expected, got ' .. typename(1, ...)) end
  if type(f) ~= 'function' then argerror(2, 'function expected, got ' .. typename(2, ...)) end
  local v = view_of[t]
  if v then return tforeach(v, f) end
  return tforeach(t, f)
end

-- Redis's Lua reads every chunk as text: a chunk starting with the binary signature (ESC)
-- is a syntax error, never bytecode. A space in front gives the same error message.
local function w_loadstring(...)
  local s, name = ...
  local ts = type(s)
  if ts ~= 'string' and ts ~= 'number' then
    argerror(1, 'string expected, got ' .. typename(1, ...))
  end
  if byte(s, 1) == 27 then
    if name == nil then name = s end
    return loadstring(' ' .. s, name)
  end
  return loadstring(...)
end

local function w_load(...)
  local f, name = ...
  if type(f) ~= 'function' then argerror(1, 'function expected, got ' .. typename(1, ...)) end
  local first = true
  local function reader()
    local piece = f()
    if first then
      first = false
      if type(piece) == 'string' and byte(piece, 1) == 27 then return ' ' .. piece end
    end
    return piece
  end
  return load(reader, name)
end

-- Redis's pcall: an error table with an `err` string is returned as that string (the
-- Redis 6 form), any other table with its `err` field after it.
local function pcall_result(ok, ...)
  if ok then return ok, ... end
  local e = ...
  -- A Rust function's error (mlua's userdata): the string Redis's C library raises, or the
  -- table redis.call raises.
  if type(e) == 'userdata' then e = error_value(e) end
  if type(e) == 'table' then
    local m = e.err
    local tm = type(m)
    if tm == 'string' or tm == 'number' then return false, m end
    return false, e, m
  end
  return false, e
end

local function w_pcall(...)
  return pcall_result(pcall(...))
end

-- xpcall as Lua's, with a Rust library's error given to the handler as Redis's string.
local function w_xpcall(f, h)
  if type(h) ~= 'function' then return xpcall(f, h) end
  return xpcall(f, function(e)
    if type(e) == 'userdata' then e = error_value(e) end
    return h(e)
  end)
end

-- coroutine.resume as Lua's, with a Rust function's error in the coroutine given back as
-- Redis's value (redis.call's table, a C library's string).
local function resume_result(ok, ...)
  if ok then return ok, ... end
  local e = ...
  if type(e) == 'userdata' then return false, error_value(e) end
  return false, e
end

local function w_resume(...)
  if type((...)) ~= 'thread' then argerror(1, 'coroutine expected') end
  return resume_result(co_resume(...))
end

----------------------------------------------------------------------------------------------
-- What scripts see.

rawset(math_table, 'random', c_function(random))
rawset(coroutine_table, 'resume', c_function(w_resume))
rawset(math_table, 'randomseed', c_function(randomseed))
rawset(table_table, 'insert', c_function(w_insert))
rawset(table_table, 'foreach', c_function(w_foreach))
rawset(G0, 'redis', redis)
rawset(G0, '__redis__err__handler', handler)
rawset(G0, 'pcall', c_function(w_pcall))
rawset(G0, 'xpcall', c_function(w_xpcall))
rawset(G0, 'rawget', c_function(w_rawget))
rawset(G0, 'rawset', c_function(w_rawset))
rawset(G0, 'next', c_function(w_next))
rawset(G0, 'pairs', c_function(w_pairs))
rawset(G0, 'setmetatable', c_function(w_setmetatable))
rawset(G0, 'getmetatable', c_function(w_getmetatable))
rawset(G0, 'loadstring', c_function(w_loadstring))
rawset(G0, 'load', c_function(w_load))

-- The globals of Redis 7.0.15's EVAL scripts; everything else goes (os, io, debug, print,
-- dofile, loadfile, getfenv, setfenv, newproxy, ...).
local allowed = {
  string = 1, cjson = 1, bit = 1, cmsgpack = 1, math = 1, table = 1, struct = 1,
  redis = 1, __redis__err__handler = 1,
  xpcall = 1, tostring = 1, setmetatable = 1, next = 1, assert = 1, tonumber = 1,
  rawequal = 1, collectgarbage = 1, getmetatable = 1, rawset = 1, pcall = 1,
  coroutine = 1, type = 1, _G = 1, select = 1, unpack = 1, gcinfo = 1, pairs = 1,
  rawget = 1, loadstring = 1, ipairs = 1, _VERSION = 1, load = 1, error = 1,
}
local removed = {
  dofile = 1, loadfile = 1, print = 1, getfenv = 1, setfenv = 1, newproxy = 1, debug = 1,
}
for k in next, G0 do
  if not allowed[k] then
    if not removed[k] then
      rk_log(3, "A key '" .. tostring(k) .. "' was added to Lua globals which is not on the "
        .. 'globals allow list nor listed on the deny list.')
    end
    rawset(G0, k, nil)
  end
end

local function ro_newindex()
  error(RO, 2)
end

-- The proxy of table t (made once): t's tables are replaced by their proxies in place, so
-- that reading through a proxy only ever yields proxies.
local function protect(t)
  if view_of[t] then return t end
  local p = proxy_of[t]
  if p then return p end
  p = {}
  proxy_of[t] = p
  view_of[p] = t
  meta_of[p] = false
  for k, v in next, t do
    if type(v) == 'table' then rawset(t, k, protect(v)) end
  end
  local mt = getmetatable(t)
  if mt then meta_of[p] = protect(mt) end
  setmetatable(p, {__index = t, __newindex = ro_newindex})
  return p
end

-- Reading a missing global is an error (Redis's luaProtectedTableError).
local function global_miss(_, k)
  local tk = type(k)
  if tk ~= 'string' and tk ~= 'number' then
    error('Second argument to luaProtectedTableError must be a string or number', 2)
  end
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end

local PG = {}
proxy_of[G0] = PG
view_of[PG] = G0
for k, v in next, G0 do
  if type(v) == 'table' then rawset(G0, k, protect(v)) end
end
rawset(G0, '_G', PG)
local global_meta = {__index = global_miss}
setmetatable(G0, global_meta)
meta_of[PG] = protect(global_meta)
setmetatable(PG, {__index = G0, __newindex = ro_newindex})
string_meta = protect({__index = proxy_of[string_table]})

-- The engine runs each script as Lua's own xpcall(f, handler), KEYS and ARGV being two tables
-- it keeps in G0 and refills for every run (engine.rs, `ArgTables`).
return PG
