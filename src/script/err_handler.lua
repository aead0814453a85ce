local getinfo, internal, error_value = ...
local type, tostring = type, tostring
return function(err) if type(err) == 'userdata' then err = error_value(err) end
  local l = 2 local i = getinfo(l, 'nSl')
  if i and i.what == 'C' then local j = getinfo(l + 1, 'S') if j and j.source == internal then l = l + 1 i = j end end
  if i and i.source == internal then repeat l = l + 1 i = getinfo(l, 'nSl') until not (i and i.source == internal) end
  if i and i.what == 'C' then i = getinfo(l + 1, 'nSl') end
  if type(err) ~= 'table' then err = {err='ERR ' .. tostring(err)} end
  -- Redis's handler also sets the source on line 10.
  if i then err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end
-- The message handler of every script run (Redis's __redis__err__handler): the error as a
-- table {err=, source=, line=}, where source and line name the script code that raised it.
-- An error a Rust library function raised arrives as mlua's userdata: it is read as the
-- string Redis's C library would have raised.
-- Frames of the sandbox chunk, with the C trampoline that calls them, stand for the C
-- functions Redis has in their place: an error raised in sandbox code (through `error` or
-- not) is reported at the caller of its trampoline; an error raised by a sandbox
-- metamethod (which the VM calls directly) at the code that indexed the table.
-- Line 10 holds the `source` assignment as Redis's handler does, so that an error raised
-- while handling an error reads "err_handler_def:10" in both.
