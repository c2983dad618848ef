# shellcheck shell=bash
# lb_sshd_start DIR USER_DATA PORT CONF_DIR NGINX...: play cloud-init for an LB server of the
# server balancer without Chef (the fake virt driver runs nothing). From the #cloud-config
# USER_DATA that sclman gave Nova it takes the SSH host key, the one authorized key line and
# sclman-lb-apply, checks the line's restrictions, and starts a real sshd on 127.0.0.1:PORT
# (root's sessions, forced-commands-only) whose sessions run that script against the nginx
# whose upstream.conf lives in CONF_DIR, controlled by the command NGINX.... Its pid is
# appended to SERVICE_PIDS (lib.sh's cleanup stops it) and printed in LB_SSHD_PID.
# lb_sshd_stop: stop it.
LB_SSHD_PID=

# lb_sshd_port: print a free TCP port on 127.0.0.1 outside the kernel's ephemeral range, so that
# no client connection's source port takes it in the minute before sshd binds it (the reason
# sclman's local provider chooses its ports the same way).
lb_sshd_port() {
  /usr/bin/python3 - <<'PY'
import random, socket
low, high = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
span = (10000, low - 1) if low - 1 - 10000 >= 65535 - (high + 1) else (high + 1, 65535)
for _ in range(200):
    port = random.randint(*span)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit("no free port")
PY
}

lb_sshd_start() {
  local dir=$1 user_data=$2 port=$3 conf=$4
  shift 4
  local nginx="$*"
  mkdir -p "$dir" /run/sshd
  chmod 700 "$dir"
  /usr/bin/python3 - "$dir" "$user_data" <<'PY' || return 1
import os, sys, yaml
d, path = sys.argv[1], sys.argv[2]
doc = yaml.safe_load(open(path))
script = "/usr/local/sbin/sclman-lb-apply"
users = [u for u in doc["users"] if isinstance(u, dict)]
assert len(users) == 1, users
keys = users[0]["ssh_authorized_keys"]
assert len(keys) == 1, keys
prefix = 'restrict,command="%s" ssh-ed25519 ' % script
assert keys[0].startswith(prefix), keys[0]
files = {f["path"]: f for f in doc["write_files"]}
assert files[script]["permissions"] == "0755"
def write(name, text, mode):
    with open(os.path.join(d, name), "w") as f:
        f.write(text)
    os.chmod(os.path.join(d, name), mode)
write("sclman-lb-apply", files[script]["content"], 0o755)
# The line as the user data has it, its command pointed at this copy of the script.
write("authorized_keys", keys[0].replace(script, os.path.join(d, "sclman-lb-apply")) + "\n", 0o600)
write("host_ed25519", doc["ssh_keys"]["ed25519_private"], 0o600)
write("host_ed25519.pub", doc["ssh_keys"]["ed25519_public"] + "\n", 0o644)
PY
  cat > "$dir/sshd_config" <<EOT
ListenAddress 127.0.0.1:$port
HostKey $dir/host_ed25519
AuthorizedKeysFile $dir/authorized_keys
PidFile none
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin forced-commands-only
SetEnv SCLMAN_LB_CONF_DIR=$conf "SCLMAN_LB_NGINX=$nginx" SCLMAN_LB_PID_FILE=$conf/../logs/nginx.pid
EOT
  /usr/sbin/sshd -t -f "$dir/sshd_config" || return 1
  /usr/sbin/sshd -D -f "$dir/sshd_config" -E "$dir/sshd.log" &
  LB_SSHD_PID=$!
  SERVICE_PIDS+=("$LB_SSHD_PID")
  local _
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "sshd on 127.0.0.1:$port did not listen: $(tail -n 5 "$dir/sshd.log")" >&2
  return 1
}

lb_sshd_stop() {
  [ -n "$LB_SSHD_PID" ] || return 0
  kill "$LB_SSHD_PID" 2>/dev/null || true
  wait "$LB_SSHD_PID" 2>/dev/null || true
  local kept=() pid
  for pid in "${SERVICE_PIDS[@]}"; do [ "$pid" = "$LB_SSHD_PID" ] || kept+=("$pid"); done
  SERVICE_PIDS=("${kept[@]}")
  LB_SSHD_PID=
}
