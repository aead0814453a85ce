-- The function engine's layer over the sandbox (sandbox.lua), built once per function Lua
-- state, after the sandbox. As in Redis 7.0's function_lua.c, every library's code and every
-- function it registers see one globals table, `FG`: empty and read-only, its metatable's
-- `__index` pointing at the sandbox's globals while a function runs, and at the load API
-- while a library's code runs (FUNCTION LOAD, RESTORE, an RDB or AOF being loaded). The load
-- API is only `redis.register_function`, `redis.log` with its levels, and the version
-- fields; anything else read then is Redis's "nonexistent global variable" error, and
-- writes are "Attempt to modify a readonly table".
--
-- Errors of `redis.register_function` are error tables (Redis's luaPushError), whose text
-- the loader reports after "Error registering functions: ".
--
-- This chunk is named like the sandbox's ("@sandbox"): the message handler treats its
-- frames as the C functions they stand for.
--
-- Arguments: the sandbox's globals (a proxy), the message handler, the error-table maker,
-- the flag bits by lower-case name, Lua's own xpcall (the sandbox's calls the handler with
-- a tail call, which would hide the function's frame from it). Returns FG, the loader and
-- the runner.
local PG, handler, rk_err, FLAG_BITS, xpcall = ...

local type, tostring, error, next, select = type, tostring, error, next, select
local setmetatable = setmetatable
local lower, find = string.lower, string.find
local sandbox_redis = redis

local RO = 'Attempt to modify a readonly table'

local function ro_newindex()
  error(RO, 2)
end

-- A read-only view of `t` whose missing fields are Redis's error for a missing global.
local function protected(t)
  local function index(_, k)
    local v = t[k]
    if v ~= nil then return v end
    local tk = type(k)
    if tk ~= 'string' and tk ~= 'number' then
      error('Second argument to luaProtectedTableError must be a string or number', 2)
    end
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end
  return setmetatable({}, {__index = index, __newindex = ro_newindex, __metatable = false})
end

-- The functions registered by the library being loaded (nil outside a load), by name.
local pending, pending_names

local function fail(msg)
  error(rk_err(msg), 0)
end

-- Lua's lua_isstring: strings and numbers.
local function is_string(v)
  local t = type(v)
  return t == 'string' or t == 'number'
end

-- Redis's functionsVerifyName: [a-zA-Z0-9_]+.
local function valid_name(name)
  return name ~= '' and not find(name, '[^%w_]')
end

-- The flags of a `flags` table (its array part, up to the first nil), or nil for an
-- unknown one.
local function read_flags(t)
  local bits, i = 0, 1
  while true do
    local f = t[i]
    if f == nil then return bits end
    if not is_string(f) then return nil end
    local b = FLAG_BITS[lower(tostring(f))]
    if not b then return nil end
    if bits % (b + b) < b then bits = bits + b end
    i = i + 1
  end
end

local function register_function(...)
  if not pending then fail('redis.register_function can only be called on FUNCTION LOAD command') end
  local n = select('#', ...)
  if n < 1 or n > 2 then fail('wrong number of arguments to redis.register_function') end
  local name, callback, flags, desc
  if n == 1 then
    local t = ...
    if type(t) ~= 'table' then
      fail('calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).')
    end
    for k, v in next, t do
      if not is_string(k) then fail('named argument key given to redis.register_function is not a string') end
      local key = lower(tostring(k))
      if key == 'function_name' then
        if not is_string(v) then fail('function_name argument given to redis.register_function must be a string') end
        name = tostring(v)
      elseif key == 'description' then
        if not is_string(v) then fail('description argument given to redis.register_function must be a string') end
        desc = tostring(v)
      elseif key == 'callback' then
        if type(v) ~= 'function' then fail('callback argument given to redis.register_function must be a function') end
        callback = v
      elseif key == 'flags' then
        if type(v) ~= 'table' then fail('flags argument to redis.register_function must be a table representing function flags') end
        flags = read_flags(v)
        if not flags then fail('unknown flag given') end
      else
        fail('unknown argument given to redis.register_function')
      end
    end
    if not name then fail('redis.register_function must get a function name argument') end
    if not callback then fail('redis.register_function must get a callback argument') end
  else
    local a, b = ...
    if not is_string(a) then fail('first argument to redis.register_function must be a string') end
    if type(b) ~= 'function' then fail('second argument to redis.register_function must be a function') end
    name, callback = tostring(a), b
  end
  -- Redis 7.0 words a bad function name as a bad library name.
  if not valid_name(name) then
    fail('Library names can only contain letters, numbers, or underscores(_) and must be at least one character long')
  end
  if pending_names[name] then fail('Function already exists in the library') end
  pending_names[name] = true
  pending[#pending + 1] = {name = name, callback = callback, flags = flags or 0, description = desc}
end

local load_redis = {
  register_function = register_function,
  log = sandbox_redis.log,
  LOG_DEBUG = sandbox_redis.LOG_DEBUG,
  LOG_VERBOSE = sandbox_redis.LOG_VERBOSE,
  LOG_NOTICE = sandbox_redis.LOG_NOTICE,
  LOG_WARNING = sandbox_redis.LOG_WARNING,
  REDIS_VERSION = sandbox_redis.REDIS_VERSION,
  REDIS_VERSION_NUM = sandbox_redis.REDIS_VERSION_NUM,
}
local load_api = protected({redis = protected(load_redis)})

local FG_meta = {__index = PG, __newindex = ro_newindex}
local FG = setmetatable({}, FG_meta)

-- An error a Rust function raised (the load timeout's) arrives as a userdata: the message
-- handler reads it as the error table Redis's would be.
local function keep_error(e)
  if type(e) == 'userdata' then return handler(e) end
  return e
end

-- Runs a library's compiled code with the load API as its globals: true and the list of
-- registered functions, or false and the error text (Redis's luaExtractErrorInformation:
-- a string gets "ERR " in front, a table gives its `err`).
local function load_library(chunk)
  pending, pending_names = {}, {}
  FG_meta.__index = load_api
  local ok, e = xpcall(chunk, keep_error)
  FG_meta.__index = PG
  local registered = pending
  pending, pending_names = nil, nil
  if ok then return true, registered end
  if type(e) == 'table' then
    local m = e.err
    if is_string(m) then return false, tostring(m) end
    return false, 'ERR unknown error'
  end
  return false, 'ERR ' .. tostring(e)
end

-- Runs a registered function with its keys and arguments under the message handler:
-- xpcall's results, as the EVAL runner returns them. Not a tail call: Lua 5.1 would report
-- the function's frame as "(tail call)" to the handler. One result, as Redis takes.
-- The keys are the first `nkeys` strings after the function, the arguments the rest (as
-- the EVAL runner splits them).
local function run(f, nkeys, ...)
  local keys, args = {...}, {}
  for i = nkeys + 1, select('#', ...) do
    args[i - nkeys] = keys[i]
    keys[i] = nil
  end
  return xpcall(function()
    local result = f(keys, args)
    return result
  end, handler)
end

return FG, load_library, run
