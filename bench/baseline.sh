#!/usr/bin/env bash
# Full baseline of a tree (default /usr/share, warm cache) by fim-agent, aide --init with the same
# attributes (p+i+n+u+g+s+m+c+sha256), and find | xargs -0 -P2 sha256sum, in one run; then an
# unchanged fim-agent rescan and, as its peer, find -printf with the same stat fields. Each is run RUNS times
# (default 3); the median wall time is compared. The hashing floor is the tree's bytes / (cores x openssl's
# SHA-256 rate), measured in the same run, plus the stat-only walk (the find -printf peer).
# Targets: fim-agent <= 0.2x AIDE, <= 1.0x the sha256sum pipeline and <= 1.5x the floor; the one-shot unchanged
# rescan <= 0.1x the baseline and <= the find -printf walk.
source "$(dirname "$0")/common.sh"
TREE=${1:-/usr/share}
RUNS=${RUNS:-3}

echo "tree: $TREE ($(find "$TREE" -xdev | wc -l) entries, $(du -sh --apparent-size "$TREE" 2>/dev/null | cut -f1))"
find "$TREE" -xdev -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true   # warm the page cache

cat > "$WORK/aide.conf" <<CONF
database_out=file:$WORK/aide.db.new
gzip_dbout=no
report_url=stdout
FIM = p+i+n+u+g+s+m+c+sha256
$TREE FIM
CONF

BYTES=$(find "$TREE" -xdev -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f", s}')
CORES=$(nproc)
# openssl prints the rate in 1000s of bytes per second for the largest block size in its last column.
SHA_RATE=$(openssl speed -seconds 2 -bytes 1048576 -evp sha256 2>/dev/null | awk '/^sha256/ {v = $NF; sub(/k$/, "", v); print v * 1000}')
echo "SHA-256 (openssl speed -evp sha256, 1 MiB blocks): $(awk -v r="$SHA_RATE" 'BEGIN {printf "%.2f", r / 1e9}') GB/s per core, $CORES cores; $BYTES bytes in regular files"

# The engine's own figure from its last notice ("... in N s"); stderr is JSON lines when not a terminal.
engine_seconds() { grep -o 'entries[^"]* in [0-9.,]* s' "$WORK/stderr.$$" | tail -n1 | grep -o 'in [0-9.,]* s' | tr -dc '0-9.'; }

declare -a fim aide sums rescan engine_base engine_rescan walk rescan_cpu walk_cpu
for i in $(seq "$RUNS"); do
  rm -rf "$WORK/state" "$WORK/key" "$WORK/aide.db.new"   # a fresh install: the key's anchor would refuse a deleted baseline
  measure "fim-agent scan (baseline) #$i" "${AGENT[@]}" scan "$TREE" --state "$WORK/state" --key-file "$WORK/key/k"
  fim+=("$LAST_WALL"); engine_base+=("$(engine_seconds)")
  measure "fim-agent scan (unchanged) #$i" "${AGENT[@]}" scan "$TREE" --state "$WORK/state" --key-file "$WORK/key/k"
  rescan+=("$LAST_WALL"); engine_rescan+=("$(engine_seconds)"); rescan_cpu+=("$LAST_CPU")
  # What AIDE and fim-agent record per entry: type, mode, uid, gid, owner, group, size, mtime, ctime, inode, device, links, target.
  measure "find -printf (same stat fields) #$i" find "$TREE" -xdev -printf '%p %y %m %U %G %u %g %s %T@ %C@ %i %D %n %l\n'
  walk+=("$LAST_WALL"); walk_cpu+=("$LAST_CPU")
  measure "aide --init #$i" aide --init -c "$WORK/aide.conf"
  aide+=("$LAST_WALL")
  measure "find|xargs -P2 sha256sum #$i" bash -c "find '$TREE' -xdev -type f -print0 | xargs -0 -P2 -n 500 sha256sum"
  sums+=("$LAST_WALL")
done

F=$(printf '%s\n' "${fim[@]}" | median); A=$(printf '%s\n' "${aide[@]}" | median)
S=$(printf '%s\n' "${sums[@]}" | median); R=$(printf '%s\n' "${rescan[@]}" | median)
EB=$(printf '%s\n' "${engine_base[@]}" | median); ER=$(printf '%s\n' "${engine_rescan[@]}" | median)
W=$(printf '%s\n' "${walk[@]}" | median)
FLOOR=$(awk -v b="$BYTES" -v c="$CORES" -v r="$SHA_RATE" -v w="$W" 'BEGIN {printf "%.3f", b / (c * r) + w}')
echo
echo "median wall: fim-agent baseline ${F}s, aide --init ${A}s, sha256sum pipeline ${S}s, fim-agent unchanged rescan ${R}s"
echo "baseline / aide            = $(ratio "$F" "$A")   (target <= 0.2)"
echo "baseline / sha256sum pipe  = $(ratio "$F" "$S")   (target <= 1.0)"
echo "baseline / hashing floor   = $(ratio "$F" "$FLOOR")   (target <= 1.5; floor ${FLOOR}s = bytes / (cores x SHA-256 rate) + find -printf ${W}s)"
echo "rescan / baseline (process wall, incl. start and sealed baseline load) = $(ratio "$R" "$F")   (target <= 0.1)"
echo "rescan / find -printf     = $(ratio "$R" "$W")   (target <= 1.0; find ${W}s)"
RC=$(printf '%s\n' "${rescan_cpu[@]}" | median); WC=$(printf '%s\n' "${walk_cpu[@]}" | median)
echo "same, CPU seconds (user + system): rescan ${RC}s, find -printf ${WC}s = $(ratio "$RC" "$WC")"
echo "rescan / baseline (scan engine, as the running agent's scheduled rescan) = $(ratio "$ER" "$EB")   (engine ${ER}s / ${EB}s)"
