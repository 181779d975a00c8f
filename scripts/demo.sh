#!/usr/bin/env bash
# README command one: the whole system on one machine, everything on 127.0.0.1.
#   1. Installs what it needs when missing (nats-server, curl, Node.js and npm, clang and zlib for the native agent:
#      Debian's packages through apt; npm oidc-provider into .cache/oidc-provider) and builds fim-agent and fim-manager
#      (skipped when up to date).
#   2. Starts nats-server with JetStream (a token made up for this run), a local OpenID Connect provider
#      (tests/oidc/provider.mjs) with one user, `demo`, whose one-time password is made up for this run, a manager with its
#      embedded SQLite store and the web console, and a connected agent (`fim-agent run`) watching .cache/demo under a
#      local policy (content diffs on).
#   3. Prints the console's address and the login. On a terminal it keeps running: change a file in .cache/demo and
#      the alert shows in the open console; Ctrl-C stops everything it started, and nothing else.
# Without a terminal (or with CI=true) it makes a change itself, checks through the manager's REST API (a token from
# the provider, client credentials) that its alert arrived, prints it, stops everything and exits 0. --keep-running
# keeps it running without a terminal instead, until SIGINT or SIGTERM (what the console test does).
#
# State is kept in .cache/demo-system between runs (NATS's streams, the alert store, the agent's baseline): a second
# run carries on and reports what changed in .cache/demo while it was stopped. --fresh starts from nothing.
# --standalone runs the lightweight demo instead: `fim-agent watch` alone, no server (scripts/demo-standalone.sh).
#
# Environment: FIM_DEMO_ROOT (where demo/ and demo-system/ live; default .cache); FIM_DEMO_HTTP_PORT (8080),
# FIM_DEMO_NATS_PORT (14222), FIM_DEMO_OIDC_PORT (9400): a default that is taken is replaced by a free port, a port
# you set must be free; FIM_DEMO_AGENT (fim-agent or fim-agent.dll) and FIM_DEMO_MANAGER (fim-manager.dll) run those
# builds instead of building (the tests pass their own).
set -euo pipefail
# Started from a background job (a script, a test runner), SIGINT arrives ignored and a trap cannot take it back:
# start again with it at its default, so SIGINT (Ctrl-C, kill -INT) always stops the demo cleanly.
if [[ -z "${FIM_DEMO_SIGNALS:-}" ]]; then FIM_DEMO_SIGNALS=1 exec env --default-signal=INT bash "$0" "$@"; fi
cd "$(dirname "$0")/.."
repo=$PWD

keep=false fresh=false
while (($#)); do
  case "$1" in
    --standalone) shift; exec bash scripts/demo-standalone.sh "$@" ;;
    --keep-running) keep=true; shift ;;
    --fresh) fresh=true; shift ;;
    *) echo "demo: unknown argument '$1' (--keep-running, --fresh, --standalone [fim-agent watch options])" >&2; exit 2 ;;
  esac
done
if [[ "${CI:-}" != "true" && -t 0 && -t 1 ]]; then keep=true; fi

say() { echo "demo: $*"; }
die() { echo "demo: $*" >&2; exit 1; }

# --- what it needs ------------------------------------------------------------------------------------------------
need=()
command -v nats-server >/dev/null 2>&1 || need+=(nats-server)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
# The agent is published as a native executable: the .NET AOT compiler links with clang, against zlib.
if [[ -z "${FIM_DEMO_AGENT:-}" ]]; then
  command -v clang >/dev/null 2>&1 || need+=(clang)
  [[ -f /usr/include/zlib.h ]] || need+=(zlib1g-dev)
fi
if ((${#need[@]})); then
  (($(id -u) == 0)) || die "need root to install ${need[*]} (apt-get install ${need[*]}), or install them and run again"
  say "installing ${need[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v dotnet >/dev/null 2>&1 || die "the .NET 10 SDK (dotnet) is required and not on PATH"
bash scripts/fetch-oidc-provider.sh >/dev/null

if [[ -n "${FIM_DEMO_AGENT:-}" ]]; then agent=$FIM_DEMO_AGENT; else
  say "building fim-agent (native; minutes the first time, skipped when up to date)"
  agent=$(bash scripts/build-agent.sh)
fi
if [[ -n "${FIM_DEMO_MANAGER:-}" ]]; then manager=$FIM_DEMO_MANAGER; else
  say "building fim-manager (skipped when up to date)"
  manager=$(bash scripts/build-manager.sh)
fi
agent_cmd=("$agent"); [[ "$agent" == *.dll ]] && agent_cmd=(dotnet "$agent")

# --- places -------------------------------------------------------------------------------------------------------
root=$(mkdir -p "${FIM_DEMO_ROOT:-.cache}" && cd "${FIM_DEMO_ROOT:-.cache}" && pwd)
demo=$root/demo sys=$root/demo-system
mkdir -p "$demo/etc/app" "$demo/bin"
[ -f "$demo/etc/app/app.conf" ] || printf 'listen=0.0.0.0:8080\nlog_level=info\n' > "$demo/etc/app/app.conf"
[ -f "$demo/etc/passwd" ] || printf 'root:x:0:0:root:/root:/bin/bash\n' > "$demo/etc/passwd"
[ -f "$demo/bin/tool" ] || { printf '#!/bin/sh\necho tool\n' > "$demo/bin/tool"; chmod 755 "$demo/bin/tool"; }

umask 077
mkdir -p "$sys"
exec 9>"$sys/lock"
flock -n 9 || die "another demo is running on $sys (stop it with Ctrl-C in its terminal)"

# A run killed outright (SIGKILL) leaves its processes behind, holding the ports and the stores: stop those, and only
# those (each one's command line names this state directory), the agent first as at a normal stop.
if [[ -f "$sys/pids" ]]; then
  tac "$sys/pids" | while read -r pid name; do
    if tr '\0' '\n' 2>/dev/null < "/proc/$pid/cmdline" | grep -qF "$sys"; then
      say "stopping $name (pid $pid), left running by an earlier run"
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -f "$sys/pids"
fi
if $fresh; then
  find "$sys" -mindepth 1 -maxdepth 1 ! -name lock -exec rm -rf {} +
  say "fresh state in $sys"
fi
mkdir -p "$sys/logs" "$sys/nats" "$sys/store" "$sys/agent-state" "$sys/agent-key" "$sys/oidc"

# --- ports --------------------------------------------------------------------------------------------------------
taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
port() { # port VARIABLE DEFAULT
  local set=${!1:-}
  if [[ -n "$set" ]]; then taken "$set" && die "$1=$set: that port is taken"; echo "$set"
  elif taken "$2"; then free_port
  else echo "$2"; fi
}
http_port=$(port FIM_DEMO_HTTP_PORT 8080)
nats_port=$(port FIM_DEMO_NATS_PORT 14222)
oidc_port=$(port FIM_DEMO_OIDC_PORT 9400)
console="http://127.0.0.1:$http_port/console/alerts"
# What the provider's access tokens are for (an absolute URI): this manager's API.
audience="http://127.0.0.1:$http_port/api"

# --- secrets of this run (files 0600, never on a command line) -----------------------------------------------------
secret() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
json() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }
nats_token=$(secret) console_secret=$(secret) check_secret=$(secret) password=$(secret | cut -c1-20)
printf '%s' "$nats_token" > "$sys/nats.token"

cat > "$sys/nats.conf" <<CONF
listen: 127.0.0.1:$nats_port
jetstream { store_dir: $(json "$sys/nats"), max_memory_store: 256MB, max_file_store: 2GB }
max_payload: 1MB
authorization { token: "$nats_token" }
CONF

cat > "$sys/oidc/config.json" <<CONF
{ "modulesDir": $(json "$repo/.cache/oidc-provider/node_modules"), "port": $oidc_port,
  "issuer": "http://127.0.0.1:$oidc_port", "keysFile": $(json "$sys/oidc/keys.json"), "audience": "$audience",
  "clients": [
    { "client_id": "fim-console", "client_secret": "$console_secret", "grant_types": ["authorization_code", "refresh_token"],
      "redirect_uris": ["http://127.0.0.1/signin-oidc"], "post_logout_redirect_uris": ["http://127.0.0.1/"],
      "response_types": ["code"], "token_endpoint_auth_method": "client_secret_post" },
    { "client_id": "demo-check", "client_secret": "$check_secret", "grant_types": ["client_credentials"],
      "redirect_uris": [], "response_types": [], "token_endpoint_auth_method": "client_secret_post",
      "groups": ["fim-demo-viewers"], "tokenTtl": 600 } ],
  "accounts": [ { "login": "demo", "password": "$password", "groups": ["fim-demo-admins"], "singleUse": true } ] }
CONF

cat > "$sys/policy.yaml" <<CONF
name: demo
paths:
  - path: $(json "$demo")
    reportDiffs: true
CONF

cat > "$sys/agent.yaml" <<CONF
agentId: demo-agent
labels: { role: demo }
nats:
  url: nats://127.0.0.1:$nats_port
  tokenFile: $(json "$sys/nats.token")
stateDir: $(json "$sys/agent-state")
keyFile: $(json "$sys/agent-key/baseline.key")
policyFile: $(json "$sys/policy.yaml")
heartbeatInterval: 5s
CONF

# --- the processes ------------------------------------------------------------------------------------------------
pids=() names=()
# start NAME DIR SETUP COMMAND...: runs SETUP (a function: its exports reach this process only), then COMMAND in DIR,
# in a session of its own, so Ctrl-C reaches only this script, which stops each in turn (the agent first, NATS last).
# Output goes to logs/NAME.log; the lock stays with this script.
start() {
  local name=$1 dir=$2 setup=$3; shift 3
  (cd "$dir" && "$setup" && exec setsid "$@" >"$sys/logs/$name.log" 2>&1 9>&-) &
  pids+=($!) names+=("$name")
  echo "$! $name" >> "$sys/pids"
}
alive() { local s; s=$(sed -n 's/^State:\s*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null); [[ -n "$s" && "$s" != Z ]]; }
stop_all() {
  trap '' INT TERM HUP
  local i pid
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 200); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then echo "demo: ${names[i]} did not stop within 20 s; killing it" >&2; kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
  done
  pids=() names=()
  rm -f "$sys/pids"
}
# A stop asked for (Ctrl-C, SIGTERM, the terminal closing) ends with 0; output to a closed pipe stops it all too. Any
# other end (an error, a part that died) goes through the EXIT trap. Saying so may fail on a closed terminal: never mind.
on_stop() { { echo; say "stopping"; } 2>/dev/null || true; stop_all; say "stopped" 2>/dev/null || true; exit 0; }
trap stop_all EXIT
trap on_stop INT TERM HUP
trap 'stop_all; exit 1' PIPE

died() { # the processes that are no longer running, with their logs' ends
  local i bad=1
  for i in "${!pids[@]}"; do
    if ! alive "${pids[i]}"; then
      bad=0; echo "demo: ${names[i]} stopped; the end of $sys/logs/${names[i]}.log:" >&2
      tail -n 30 "$sys/logs/${names[i]}.log" >&2
    fi
  done
  return $bad
}
wait_for() { # wait_for SECONDS WHAT COMMAND...: fails with the logs when a process dies or the time is up
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    died && die "stopped before $what"
    ((SECONDS < deadline)) || { tail -n 30 "$sys"/logs/*.log >&2; die "no $what within $seconds s"; }
    sleep 0.2
  done
}
logged() { grep -qF "$2" "$sys/logs/$1.log" 2>/dev/null; }
answers() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$http_port/readyz" 2>/dev/null; }

say "starting nats-server (127.0.0.1:$nats_port), the OpenID Connect provider (127.0.0.1:$oidc_port), fim-manager and fim-agent"
start nats-server "$sys" : nats-server -c "$sys/nats.conf"
start oidc "$sys" : node "$repo/tests/oidc/provider.mjs" "$sys/oidc/config.json"
wait_for 60 "nats-server ready" logged nats-server "Server is ready"
wait_for 60 "OpenID Connect provider" logged oidc "oidc-provider listening"

# The manager's settings come through its environment, the secrets too (never its command line, which `ps` shows);
# the store's place is an argument, so its command line names $sys. It runs from its own folder: its content root,
# where the console's assets are.
manager_env() {
  export Fim__Nats__Url="nats://127.0.0.1:$nats_port" Fim__Nats__TokenFile="$sys/nats.token"
  export Fim__Api__Address=127.0.0.1 Fim__Api__HttpPort="$http_port" Fim__Api__GrpcPort=0
  export Fim__Auth__Oidc__Authority="http://127.0.0.1:$oidc_port" Fim__Auth__Oidc__Audience="$audience"
  export Fim__Auth__Oidc__RequireHttpsMetadata=false Fim__Auth__Oidc__ClientId=fim-console Fim__Auth__Oidc__ClientSecret="$console_secret"
  export Fim__Auth__Groups__0__Group=fim-demo-admins Fim__Auth__Groups__0__Role=admin
  export Fim__Auth__Groups__1__Group=fim-demo-viewers Fim__Auth__Groups__1__Role=viewer
  export Fim__Sinks__Stdout__Enabled=false DOTNET_CLI_TELEMETRY_OPTOUT=1
}
start manager "$(dirname "$manager")" manager_env dotnet "$manager" "--Fim:Store:DataDirectory=$sys/store"
wait_for 180 "manager ready (http://127.0.0.1:$http_port/readyz)" answers

start agent "$sys" : "${agent_cmd[@]}" run --config "$sys/agent.yaml"
wait_for 180 "agent applying its policy" logged agent "revision 0 applied"

cat <<MSG
demo: the whole system is running: nats-server, a manager with its store and the web console, an agent watching $demo
  console   $console
  login     demo
  password  $password   (one-time: the first sign-in uses it up; the session then lasts 8 hours; start again for a new one)
MSG

if $keep; then
  cat <<MSG
Change a file there, from another terminal, and watch the alert arrive in the console:
  echo 'log_level=debug' >> $demo/etc/app/app.conf
  chmod 4755 $demo/bin/tool
Logs: $sys/logs/. Ctrl-C stops everything this started.
MSG
  # Returns when a process ends (a trapped signal interrupts it and runs the trap).
  while true; do
    wait -n "${pids[@]}" || true
    died && die "a part of the system stopped; stopping the rest"
  done
fi

# --- no terminal: the same system, checked through the API --------------------------------------------------------
marker="demo check $(secret | cut -c1-8)"
file="$demo/etc/app/app.conf"
say "no terminal: appending '$marker' to $file and asking the manager's REST API for its alert"
echo "$marker" >> "$file"
printf 'client_secret=%s' "$check_secret" > "$sys/oidc/check.form"
token=$(curl -fsS --max-time 10 -d grant_type=client_credentials -d client_id=demo-check -d @"$sys/oidc/check.form" \
  "http://127.0.0.1:$oidc_port/token" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).access_token))')
printf 'Authorization: Bearer %s' "$token" > "$sys/oidc/check.header"
alerts="$sys/check-alerts.json"
found() {
  curl -fsS --max-time 5 -H @"$sys/oidc/check.header" -G --data-urlencode agentId=demo-agent --data-urlencode "path=$file" \
    "http://127.0.0.1:$http_port/api/v1/alerts" -o "$alerts" 2>/dev/null && grep -qF "$marker" "$alerts"
}
wait_for 60 "alert for $file" found
rm -f "$sys/oidc/check.form" "$sys/oidc/check.header"
say "the alert, as the API returns it:"
node -e '
  const [marker, file] = process.argv.slice(1);
  const a = JSON.parse(require("fs").readFileSync(file, "utf8")).alerts.find(x => x.json.includes(marker));
  const full = JSON.parse(a.json);
  console.log(`  level ${a.level}  ${a.kind}  ${a.path}  rule ${a.ruleId}: ${a.ruleDescription}  (${a.source}, stored ${a.storedAt})`);
  if (full.actor) console.log(`  by ${full.actor.user ?? full.actor.uid}: ${full.actor.process} (pid ${full.actor.pid}) ${full.actor.commandLine ?? ""}`);
  for (const line of (full.diff ?? "").split("\n").filter(l => l)) console.log("    " + line);
' "$marker" "$alerts"
rm -f "$alerts"
say "stopping"
stop_all
say "done"
