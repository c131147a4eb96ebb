# every 0.3 s: the server listening on 127.0.0.1:18084 gets a slice of $1 ns on all its normal threads
while :; do
  p=$(ss -ltnpH 'sport = :18084' 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
  [ -n "$p" ] && /tmp/lat/setslice "$1" $(ls /proc/$p/task) 2>/dev/null
  sleep 0.3
done
