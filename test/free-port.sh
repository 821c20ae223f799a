#!/usr/bin/env bash
# Prints a TCP port on 127.0.0.1 that nothing listens on, below the kernel's
# range of ephemeral ports: a port in that range may be the local end of some
# client's connection, which connect() finds free and bind() does not.
read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range
highest=$((ephemeral_low > 21000 ? ephemeral_low - 1 : 39999))
for port in $(shuf -i "20000-$highest" -n 200); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "$port"
    exit 0
  fi
done
echo "free-port: no free port found" >&2
exit 1
